import { Logger, type LoggerService } from '@nestjs/common';
import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import type { TokenField } from './token-cipher.js';
import type { TokenVaultService } from './token-vault.service.js';
import { VaultError } from './vault-error.js';

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

interface TokenRow {
  id: string;
  access_token_enc: string | null;
  refresh_token_enc: string | null;
}

type Outcome = 'rotated' | 'current' | 'failed' | 'locked' | 'gone';

const COLUMNS: readonly [column: 'access_token_enc' | 'refresh_token_enc', field: TokenField][] = [
  ['access_token_enc', 'access_token'],
  ['refresh_token_enc', 'refresh_token'],
];

const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Re-encrypts every connection token that is not under the vault's current key (`vault:rotate`).
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
export async function rotateVault(dataSource: DataSource, vault: RotatingVault, options: RotateOptions = {}): Promise<RotationCounts> {
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  const lockTimeoutMs = options.lockTimeoutMs ?? 5_000;
  const logger = options.logger ?? new Logger('VaultRotation');
  const counts: RotationCounts = { rotated: 0, alreadyCurrent: 0, failed: 0 };
  const tally = (id: string, outcome: Outcome) => {
    if (outcome === 'rotated') counts.rotated++;
    else if (outcome === 'current') counts.alreadyCurrent++;
    else if (outcome === 'failed') counts.failed++;
    else if (outcome === 'locked') {
      counts.failed++;
      logger.warn(`connection ${id}: locked for longer than ${lockTimeoutMs} ms, not rotated; run vault:rotate again`);
    }
  };

  const skipped: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page: TokenRow[] = await dataSource.query(
      `SELECT id, access_token_enc, refresh_token_enc FROM connections
        WHERE (access_token_enc IS NOT NULL OR refresh_token_enc IS NOT NULL) ${after ? 'AND id > $2' : ''}
        ORDER BY id LIMIT $1`,
      after ? [batchSize, after] : [batchSize],
    );
    for (const row of page) {
      if (isCurrent(vault, row)) {
        counts.alreadyCurrent++;
        continue;
      }
      const outcome = await rotateRow(dataSource, vault, row.id, { skipLocked: true, lockTimeoutMs, logger });
      if (outcome === 'locked') skipped.push(row.id);
      else tally(row.id, outcome);
    }
    if (page.length < batchSize) break;
    after = page[page.length - 1].id;
  }

  for (const id of skipped) {
    tally(id, await rotateRow(dataSource, vault, id, { skipLocked: false, lockTimeoutMs, logger }));
  }
  return counts;
}

/** A page read is unlocked, so it only decides whether to look closer; the locked re-read decides. */
function isCurrent(vault: RotatingVault, row: TokenRow): boolean {
  try {
    return COLUMNS.every(([column]) => row[column] === null || !vault.needsRotation(row[column]));
  } catch {
    return false; // malformed: rotateRow counts it as failed
  }
}

async function rotateRow(
  dataSource: DataSource,
  vault: RotatingVault,
  id: string,
  options: { skipLocked: boolean; lockTimeoutMs: number; logger: Pick<LoggerService, 'warn'> },
): Promise<Outcome> {
  try {
    return await dataSource.transaction((em) => rotateLocked(em, vault, id, options));
  } catch (error) {
    if (error instanceof QueryFailedError && (error.driverError as { code?: string }).code === LOCK_NOT_AVAILABLE) return 'locked';
    throw error;
  }
}

async function rotateLocked(
  em: EntityManager,
  vault: RotatingVault,
  id: string,
  { skipLocked, lockTimeoutMs, logger }: { skipLocked: boolean; lockTimeoutMs: number; logger: Pick<LoggerService, 'warn'> },
): Promise<Outcome> {
  if (!skipLocked) await em.query(`SELECT set_config('lock_timeout', $1, true)`, [`${lockTimeoutMs}ms`]);
  const [row]: TokenRow[] = await em.query(
    `SELECT id, access_token_enc, refresh_token_enc FROM connections WHERE id = $1 FOR UPDATE ${skipLocked ? 'SKIP LOCKED' : ''}`,
    [id],
  );
  if (!row) return skipLocked ? 'locked' : 'gone';
  const next: Record<'access_token_enc' | 'refresh_token_enc', string | null> = { access_token_enc: null, refresh_token_enc: null };
  try {
    for (const [column, field] of COLUMNS) {
      const envelope = row[column];
      if (envelope === null || !vault.needsRotation(envelope)) continue;
      const binding = { connectionId: row.id, field };
      next[column] = vault.seal(vault.open(envelope, binding), binding);
    }
  } catch (error) {
    if (!(error instanceof VaultError)) throw error;
    // The id and the failure kind only: never the envelope, which is all a log reader would get.
    logger.warn(`connection ${row.id}: stored token could not be decrypted (${error.kind}); left as it was`);
    return 'failed';
  }
  if (next.access_token_enc === null && next.refresh_token_enc === null) return 'current';
  await em.query(
    `UPDATE connections
        SET access_token_enc = COALESCE($2, access_token_enc), refresh_token_enc = COALESCE($3, refresh_token_enc)
      WHERE id = $1`,
    [row.id, next.access_token_enc, next.refresh_token_enc],
  );
  return 'rotated';
}
