import type { SandboxAccount } from '../../data/personas.js';
import type { AccountAccess } from '../wire.js';

export type AccessKind = 'accounts' | 'balances' | 'transactions';

/**
 * What a consent's `access` allows on one account (Berlin Group consent model):
 * - `allPsd2`: accounts, balances and transactions of every account;
 * - `availableAccounts` / `availableAccountsWithBalance`: the account list only (with balances for the latter);
 * - dedicated lists: each listed IBAN for that kind; balances/transactions imply the account itself.
 */
export function allows(access: AccountAccess, account: SandboxAccount, kind: AccessKind | 'list'): boolean {
  if (access.allPsd2 !== undefined) return true;
  if (access.availableAccounts !== undefined || access.availableAccountsWithBalance !== undefined) {
    return kind === 'list';
  }
  const listed = (refs: AccountAccess['accounts']): boolean => (refs ?? []).some((r) => r.iban === account.iban);
  if (kind === 'balances') return listed(access.balances);
  if (kind === 'transactions') return listed(access.transactions);
  return listed(access.accounts) || listed(access.balances) || listed(access.transactions);
}

/** Whether the account list may carry balances (`withBalance=true`). */
export function listWithBalances(access: AccountAccess, account: SandboxAccount): boolean {
  return access.availableAccountsWithBalance !== undefined || allows(access, account, 'balances');
}
