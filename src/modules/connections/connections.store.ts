import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import type { Service } from '../../config/banks.config.js';
import { Connection } from './connection.entity.js';

/** The token columns of a connection, as vault ciphertext, with what their vault binding names. */
export interface StoredTokens {
  id: string;
  userId: string;
  aspspId: string;
  accessTokenEnc: string | null;
  refreshTokenEnc: string | null;
}

/** What a completed login writes: the services granted, sealed tokens and the dates derived from them. */
export interface Activation {
  services: Service[];
  accessTokenEnc: string;
  refreshTokenEnc: string | null;
  accessTokenExpiresAt: Date | null;
  grantedScope: string | null;
  firstLoginAt: Date;
  reauthBy: Date | null;
}

/** A refresh's result: a new access token, and a new refresh token when the bank rotates them. */
export interface RefreshedTokens {
  accessTokenEnc: string;
  refreshTokenEnc?: string;
  accessTokenExpiresAt: Date | null;
}

/** The connection row while its lock is held (see `ConnectionsStore.locked`). */
export interface LockedConnection {
  readonly row: Connection | undefined;
  saveRefreshed(tokens: RefreshedTokens): Promise<void>;
  markReauthRequired(reason: string): Promise<unknown>;
}

/** What a rewrite of one row's tokens did (vault rotation). */
export type RewriteOutcome = 'written' | 'unchanged' | 'skipped' | 'locked' | 'gone';

const LOCK_NOT_AVAILABLE = '55P03';

/**
 * The owner of `connections`: every read and write of a connection row goes through here, so the
 * token columns are only ever written as vault ciphertext by the services that seal them.
 */
@Injectable()
export class ConnectionsStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  create(input: { userId: string; aspspId: string; services: Service[]; returnUrl: string }): Promise<Connection> {
    const repo = this.dataSource.getRepository(Connection);
    return repo.save(repo.create({ ...input, status: 'pending' }));
  }

  async findById(id: string): Promise<Connection | undefined> {
    return (await this.dataSource.getRepository(Connection).findOne({ where: { id } })) ?? undefined;
  }

  async findForUser(userId: string, id: string): Promise<Connection | undefined> {
    return (await this.dataSource.getRepository(Connection).findOne({ where: { id, userId } })) ?? undefined;
  }

  listForUser(userId: string, limit: number): Promise<Connection[]> {
    return this.dataSource.getRepository(Connection).find({ where: { userId }, order: { createdAt: 'DESC' }, take: limit });
  }

  async activate(id: string, activation: Activation): Promise<void> {
    await this.dataSource.getRepository(Connection).update(id, { ...activation, status: 'active', failureReason: null, tokensRefreshedAt: activation.firstLoginAt });
  }

  /** A login that failed leaves a pending connection `failed` with a machine-readable reason, no tokens. */
  async fail(id: string, reason: string): Promise<void> {
    await this.dataSource.getRepository(Connection).update({ id, status: 'pending' }, { status: 'failed', failureReason: reason });
  }

  /** A connection that must not be used again (e.g. it holds another user's bank grant): `failed`, tokens forgotten. */
  async markFailed(id: string, reason: string): Promise<void> {
    await this.dataSource
      .getRepository(Connection)
      .update(id, { status: 'failed', failureReason: reason, accessTokenEnc: null, refreshTokenEnc: null, accessTokenExpiresAt: null });
  }

  async revoke(userId: string, id: string): Promise<void> {
    await this.dataSource.getRepository(Connection).update({ id, userId }, { status: 'revoked', accessTokenEnc: null, refreshTokenEnc: null, accessTokenExpiresAt: null });
  }

  async markReauthRequired(id: string, reason: string): Promise<void> {
    await markReauthRequired(this.dataSource.manager, id, reason);
  }

  /**
   * Runs `work` holding the connection's row lock (`FOR UPDATE`), in one transaction: whoever gets
   * the lock second sees what the first wrote. Writes made through the handle commit with it.
   */
  locked<T>(id: string, work: (connection: LockedConnection) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(Connection);
      const row = (await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } })) ?? undefined;
      return work({
        row,
        saveRefreshed: async (tokens) => {
          await repo.update(id, {
            accessTokenEnc: tokens.accessTokenEnc,
            ...(tokens.refreshTokenEnc !== undefined ? { refreshTokenEnc: tokens.refreshTokenEnc } : {}),
            accessTokenExpiresAt: tokens.accessTokenExpiresAt,
            tokensRefreshedAt: new Date(),
          });
        },
        markReauthRequired: (reason) => markReauthRequired(manager, id, reason),
      });
    });
  }

  /** Connections holding any token, by id, after `afterId`: one page of a vault rotation's scan (unlocked). */
  tokenPage(afterId: string | undefined, limit: number): Promise<StoredTokens[]> {
    return this.dataSource.query(
      `SELECT id, user_id AS "userId", aspsp_id AS "aspspId", access_token_enc AS "accessTokenEnc", refresh_token_enc AS "refreshTokenEnc" FROM connections
        WHERE (access_token_enc IS NOT NULL OR refresh_token_enc IS NOT NULL) ${afterId ? 'AND id > $2' : ''}
        ORDER BY id LIMIT $1`,
      afterId ? [limit, afterId] : [limit],
    );
  }

  /**
   * Rewrites one row's token columns in its own short transaction, under the row's lock, with what
   * `rewrite` makes of the locked row: new ciphertexts (a column left undefined keeps its value),
   * `unchanged`, or `skipped` (the row cannot be rewritten). With `skipLocked` a row another
   * transaction holds is `locked` at once; otherwise the lock is awaited up to `lockTimeoutMs`.
   */
  async rewriteTokens(
    id: string,
    options: { skipLocked: boolean; lockTimeoutMs: number },
    rewrite: (row: StoredTokens) => { accessTokenEnc?: string; refreshTokenEnc?: string } | 'unchanged' | 'skipped',
  ): Promise<RewriteOutcome> {
    try {
      return await this.dataSource.transaction(async (em): Promise<RewriteOutcome> => {
        if (!options.skipLocked) await em.query(`SELECT set_config('lock_timeout', $1, true)`, [`${options.lockTimeoutMs}ms`]);
        const [row]: StoredTokens[] = await em.query(
          `SELECT id, user_id AS "userId", aspsp_id AS "aspspId", access_token_enc AS "accessTokenEnc", refresh_token_enc AS "refreshTokenEnc" FROM connections WHERE id = $1 FOR UPDATE ${options.skipLocked ? 'SKIP LOCKED' : ''}`,
          [id],
        );
        if (!row) return options.skipLocked ? 'locked' : 'gone';
        const next = rewrite(row);
        if (next === 'unchanged' || next === 'skipped') return next;
        if (next.accessTokenEnc === undefined && next.refreshTokenEnc === undefined) return 'unchanged';
        await em.query('UPDATE connections SET access_token_enc = COALESCE($2, access_token_enc), refresh_token_enc = COALESCE($3, refresh_token_enc) WHERE id = $1', [
          row.id,
          next.accessTokenEnc ?? null,
          next.refreshTokenEnc ?? null,
        ]);
        return 'written';
      });
    } catch (error) {
      if (error instanceof QueryFailedError && (error.driverError as { code?: string }).code === LOCK_NOT_AVAILABLE) return 'locked';
      throw error;
    }
  }
}

function markReauthRequired(manager: EntityManager, id: string, reason: string): Promise<unknown> {
  return manager.getRepository(Connection).update(id, { status: 'reauth_required', failureReason: reason, accessTokenEnc: null, refreshTokenEnc: null, accessTokenExpiresAt: null });
}
