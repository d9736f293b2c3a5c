import { Injectable } from '@nestjs/common';
import type { ConsentUse, TransactionRange } from '../../aspsp/berlin-group/ais.js';
import { BankIdentityService } from '../connections/bank-identity.service.js';
import type { Connection } from '../connections/connection.entity.js';
import { AisBank } from './ais-bank.js';
import { AccountStore, type LinkedAccount, type StoredAccountsRead } from './account.store.js';
import type { AisConsent } from './consent.entity.js';

/**
 * Reads from the bank into the store. `psuIpAddress` decides what kind of read it is: present =
 * attended (the PSU asked, now: the bank's budget is not spent), absent = unattended, in which case
 * `beforeRequest` charges each request against the consent's budget before it is sent (and may
 * stop it by throwing).
 */
export interface ReadOptions {
  psuIpAddress?: string;
  beforeRequest?: (use: ConsentUse) => Promise<void>;
  /** The consent's connection, when the caller has just read it. */
  connection?: Connection;
  /** What the caller has just read of the consent's accounts: an unchanged account list then only stamps the read. */
  stored?: StoredAccountsRead;
}

@Injectable()
export class AisReader {
  constructor(
    private readonly bank: AisBank,
    private readonly store: AccountStore,
    private readonly identities: BankIdentityService,
  ) {}

  /** The account list, stored; answers with what was stored (as `AccountStore.storedAccounts` reads it). */
  async accounts(consent: AisConsent, options: ReadOptions): Promise<StoredAccountsRead> {
    return (await this.accountsWithBalances(consent, options, false)).read;
  }

  /**
   * The account list, asking for the balances in the same call (`withBalance=true`): one request
   * instead of one per account. Balances the bank sent are stored; `withoutBalances` lists the
   * accounts it sent none for (Berlin Group lets a bank ignore the parameter).
   */
  async accountsWithBalances(
    consent: AisConsent,
    options: ReadOptions,
    withBalance = true,
  ): Promise<{ read: StoredAccountsRead; links: LinkedAccount[]; withoutBalances: LinkedAccount[] }> {
    const accounts = await this.bank.call(consent, options, (ais, ctx) => ais.accounts({ ...ctx, beforeRequest: options.beforeRequest }, { withBalance }));
    // Whose accounts these are decides whether this connection may keep them (code injection).
    await this.identities.confirm(
      options.connection ?? consent.connectionId,
      accounts.map((a) => a.iban),
    );
    const read = await this.store.saveAccounts(consent, accounts, options.stored);
    const withoutBalances: LinkedAccount[] = [];
    for (const link of read.links) {
      const balances = accounts.find((a) => a.resourceId === link.resourceId)?.balances;
      if (balances && balances.length > 0) await this.store.saveBalances(link.account.id, balances);
      else withoutBalances.push(link);
    }
    return { read, links: read.links, withoutBalances };
  }

  async balances(consent: AisConsent, link: LinkedAccount, options: ReadOptions): Promise<void> {
    const balances = await this.bank.call(consent, options, (ais, ctx) => ais.balances({ ...ctx, beforeRequest: options.beforeRequest }, link.resourceId));
    await this.store.saveBalances(link.account.id, balances);
  }

  /** Every page of the range, then one upsert: a read that fails halfway stores nothing half-done. */
  async transactions(consent: AisConsent, link: LinkedAccount, range: TransactionRange, options: ReadOptions): Promise<void> {
    const transactions = await this.bank.call(consent, options, (ais, ctx) =>
      ais.transactions({ ...ctx, beforeRequest: options.beforeRequest }, link.resourceId, range),
    );
    await this.store.saveTransactions(link.account.id, transactions, range);
  }
}
