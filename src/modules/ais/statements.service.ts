import { Injectable } from '@nestjs/common';
import { AccountStore, type StatementSearch } from './account.store.js';

export type { StatementSearch };

/**
 * What the stored statements say, for other modules: PIS looks a payment up by its end-to-end id
 * when its initiation answer was lost. Reads storage only: the AIS refreshes that run anyway (the
 * user's reads, the unattended ones within the budget) keep it current; this spends nothing.
 */
@Injectable()
export class StatementsService {
  constructor(private readonly accounts: AccountStore) {}

  /** The movements of the user's account `iban` at `aspspId` that carry `endToEndId`. */
  findEndToEndId(userId: string, aspspId: string, iban: string, endToEndId: string): Promise<StatementSearch> {
    return this.accounts.searchStatement(userId, aspspId, iban, endToEndId);
  }
}
