import { Logger, type LoggerService } from '@nestjs/common';
import type { TokenField } from '../token-vault/token-cipher.js';
import type { TokenVaultService } from '../token-vault/token-vault.service.js';
import { VaultError } from '../token-vault/vault-error.js';
import type { ConnectionsStore, RewriteOutcome, StoredTokens } from './connections.store.js';
import { tokenBinding } from './token-binding.js';

export interface RotationCounts {
  /** Rows this run re-encrypted under the current key. */
  rotated: number;
  /** Rows with tokens that were already under the current key (possibly rotated by another runner). */
  alreadyCurrent: number;
  /** Rows left as they were: a token did not decrypt, or the row stayed locked too long. */
  failed: number;
}

export interface RotateOptions {
  /** Rows read per page of the scan. Each row is still rotated in its own transaction. */
  batchSize?: number;
  /** How long the final pass waits for a row another transaction holds. */
  lockTimeoutMs?: number;
  logger?: Pick<LoggerService, 'warn'>;
}

export type RotatingVault = Pick<TokenVaultService, 'currentKeyId' | 'open' | 'seal' | 'needsRotation'>;

const COLUMNS: readonly [column: 'accessTokenEnc' | 'refreshTokenEnc', field: TokenField][] = [
  ['accessTokenEnc', 'access_token'],
  ['refreshTokenEnc', 'refresh_token'],
];

/**
 * Re-encrypts every connection token that is not under the vault's current key, or not in its
 * current envelope format (`vault:rotate`; v1 envelopes become v2, which also bind the user and
 * the bank).
 *
 * Deploy the new key first in TOKEN_VAULT_KEYS (new first, old kept) on every replica, then run
 * this, then remove the old key. The app keeps serving meanwhile: each row is rewritten in its own
 * short transaction holding only that row's lock, and a row the app is refreshing is simply
 * overwritten by the app with a ciphertext under the (same) current key.
 *
 * Safe with several runners at once: rows are claimed with `FOR UPDATE SKIP LOCKED` and re-checked
 * under the lock, so a row is rotated by exactly one of them. Rows skipped because they were locked
 * are revisited at the end with a waiting lock, so each run accounts for every row it saw.
 */
export async function rotateVault(store: ConnectionsStore, vault: RotatingVault, options: RotateOptions = {}): Promise<RotationCounts> {
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  const lockTimeoutMs = options.lockTimeoutMs ?? 5_000;
  const logger = options.logger ?? new Logger('VaultRotation');
  const counts: RotationCounts = { rotated: 0, alreadyCurrent: 0, failed: 0 };
  const tally = (id: string, outcome: RewriteOutcome) => {
    if (outcome === 'written') counts.rotated++;
    else if (outcome === 'unchanged') counts.alreadyCurrent++;
    else if (outcome === 'skipped') counts.failed++;
    else if (outcome === 'locked') {
      counts.failed++;
      logger.warn(`connection ${id}: locked for longer than ${lockTimeoutMs} ms, not rotated; run vault:rotate again`);
    }
  };
  const rotate = (id: string, skipLocked: boolean) => store.rewriteTokens(id, { skipLocked, lockTimeoutMs }, (row) => reseal(vault, row, logger));

  const skipped: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.tokenPage(after, batchSize);
    for (const row of page) {
      if (isCurrent(vault, row)) {
        counts.alreadyCurrent++;
        continue;
      }
      const outcome = await rotate(row.id, true);
      if (outcome === 'locked') skipped.push(row.id);
      else tally(row.id, outcome);
    }
    if (page.length < batchSize) break;
    after = page[page.length - 1].id;
  }

  for (const id of skipped) tally(id, await rotate(id, false));
  return counts;
}

/** A page read is unlocked, so it only decides whether to look closer; the locked re-read decides. */
function isCurrent(vault: RotatingVault, row: StoredTokens): boolean {
  try {
    return COLUMNS.every(([column]) => row[column] === null || !vault.needsRotation(row[column]));
  } catch {
    return false; // malformed: the locked pass counts it as failed
  }
}

/** The locked row's tokens sealed under the current key; `skipped` when one does not decrypt. */
function reseal(
  vault: RotatingVault,
  row: StoredTokens,
  logger: Pick<LoggerService, 'warn'>,
): { accessTokenEnc?: string; refreshTokenEnc?: string } | 'skipped' {
  const next: { accessTokenEnc?: string; refreshTokenEnc?: string } = {};
  try {
    for (const [column, field] of COLUMNS) {
      const envelope = row[column];
      if (envelope === null || !vault.needsRotation(envelope)) continue;
      // Opened with the row's binding in whatever format it was written, sealed in the current one.
      const binding = tokenBinding(row, field);
      next[column] = vault.seal(vault.open(envelope, binding), binding);
    }
  } catch (error) {
    if (!(error instanceof VaultError)) throw error;
    // The id and the failure kind only: never the envelope, which is all a log reader would get.
    logger.warn(`connection ${row.id}: stored token could not be decrypted (${error.kind}); left as it was`);
    return 'skipped';
  }
  return next;
}
