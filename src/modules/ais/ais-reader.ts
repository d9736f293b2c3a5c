import { Injectable } from '@nestjs/common';
import type { TransactionRange } from '../../aspsp/berlin-group/ais.js';
import { BankIdentityService } from '../connections/bank-identity.service.js';
import { AisBank } from './ais-bank.js';
import { AccountStore, type LinkedAccount } from './account.store.js';
import type { AisConsent } from './consent.entity.js';

/**
 * Reads from the bank into the store. `psuIpAddress` decides what kind of read it is: present =
 * attended (the PSU asked, now: the bank's budget is not spent), absent = unattended. `onBankCall`
 * is told before the first request leaves, so a refresh knows whether the bank may have counted it.
 */
export interface ReadOptions {
  psuIpAddress?: string;
  onBankCall?: () => void;
}

@Injectable()
export class AisReader {
  constructor(
    private readonly bank: AisBank,
    private readonly store: AccountStore,
    private readonly identities: BankIdentityService,
  ) {}

  async accounts(consent: AisConsent, options: ReadOptions): Promise<LinkedAccount[]> {
    const accounts = await this.bank.call(consent, options.psuIpAddress, (ais, ctx) => {
      options.onBankCall?.();
      return ais.accounts(ctx);
    });
    // Whose accounts these are decides whether this connection may keep them (code injection).
    await this.identities.confirm(consent.connectionId, accounts.map((a) => a.iban));
    await this.store.saveAccounts(consent, accounts);
    return this.store.linkedAccounts(consent.id);
  }

  async balances(consent: AisConsent, link: LinkedAccount, options: ReadOptions): Promise<void> {
    const balances = await this.bank.call(consent, options.psuIpAddress, (ais, ctx) => {
      options.onBankCall?.();
      return ais.balances(ctx, link.resourceId);
    });
    await this.store.saveBalances(link.account.id, balances);
  }

  /** Every page of the range, then one upsert: a read that fails halfway stores nothing half-done. */
  async transactions(consent: AisConsent, link: LinkedAccount, range: TransactionRange, options: ReadOptions): Promise<void> {
    const transactions = await this.bank.call(consent, options.psuIpAddress, (ais, ctx) => {
      options.onBankCall?.();
      return ais.transactions(ctx, link.resourceId, range);
    });
    await this.store.saveTransactions(link.account.id, transactions, range);
  }
}
