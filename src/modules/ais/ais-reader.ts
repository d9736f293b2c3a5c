import { Injectable } from '@nestjs/common';
import type { ConsentUse, TransactionRange } from '../../aspsp/berlin-group/ais.js';
import { BankIdentityService } from '../connections/bank-identity.service.js';
import { AisBank } from './ais-bank.js';
import { AccountStore, type LinkedAccount } from './account.store.js';
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
}

@Injectable()
export class AisReader {
  constructor(
    private readonly bank: AisBank,
    private readonly store: AccountStore,
    private readonly identities: BankIdentityService,
  ) {}

  async accounts(consent: AisConsent, options: ReadOptions): Promise<LinkedAccount[]> {
    return (await this.accountsWithBalances(consent, options, false)).links;
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
  ): Promise<{ links: LinkedAccount[]; withoutBalances: LinkedAccount[] }> {
    const accounts = await this.bank.call(consent, options.psuIpAddress, (ais, ctx) =>
      ais.accounts({ ...ctx, beforeRequest: options.beforeRequest }, { withBalance }),
    );
    // Whose accounts these are decides whether this connection may keep them (code injection).
    await this.identities.confirm(
      consent.connectionId,
      accounts.map((a) => a.iban),
    );
    await this.store.saveAccounts(consent, accounts);
    const links = await this.store.linkedAccounts(consent.id);
    const withoutBalances: LinkedAccount[] = [];
    for (const link of links) {
      const balances = accounts.find((a) => a.resourceId === link.resourceId)?.balances;
      if (balances && balances.length > 0) await this.store.saveBalances(link.account.id, balances);
      else withoutBalances.push(link);
    }
    return { links, withoutBalances };
  }

  async balances(consent: AisConsent, link: LinkedAccount, options: ReadOptions): Promise<void> {
    const balances = await this.bank.call(consent, options.psuIpAddress, (ais, ctx) =>
      ais.balances({ ...ctx, beforeRequest: options.beforeRequest }, link.resourceId),
    );
    await this.store.saveBalances(link.account.id, balances);
  }

  /** Every page of the range, then one upsert: a read that fails halfway stores nothing half-done. */
  async transactions(consent: AisConsent, link: LinkedAccount, range: TransactionRange, options: ReadOptions): Promise<void> {
    const transactions = await this.bank.call(consent, options.psuIpAddress, (ais, ctx) =>
      ais.transactions({ ...ctx, beforeRequest: options.beforeRequest }, link.resourceId, range),
    );
    await this.store.saveTransactions(link.account.id, transactions, range);
  }
}
