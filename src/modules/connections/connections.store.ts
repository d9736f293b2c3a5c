import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import { returningRows } from '../../database/returning.js';
import type { Service } from '../../config/banks.config.js';
import { OutboxStore } from '../events/outbox.store.js';
import { Connection, type ConnectionStatus } from './connection.entity.js';

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

/** Every column of `connections` (under the alias `k`), named as the `Connection` entity names them. */
export function connectionColumns(k: string): string {
  return `${k}.id::text, ${k}.user_id AS "userId", ${k}.aspsp_id AS "aspspId", ${k}.services, ${k}.status, ${k}.return_url AS "returnUrl",
    ${k}.failure_reason AS "failureReason", ${k}.access_token_enc AS "accessTokenEnc", ${k}.refresh_token_enc AS "refreshTokenEnc",
    ${k}.access_token_expires_at AS "accessTokenExpiresAt", ${k}.granted_scope AS "grantedScope", ${k}.first_login_at AS "firstLoginAt",
    ${k}.reauth_by AS "reauthBy", ${k}.tokens_refreshed_at AS "tokensRefreshedAt", ${k}.expiry_warned_at AS "expiryWarnedAt",
    ${k}.external_reference AS "externalReference", ${k}.created_at AS "createdAt", ${k}.updated_at AS "updatedAt"`;
}

/** A connection read as JSON inside another statement (`row_to_json` over `connectionColumns`): its timestamps arrive as strings. */
export function connectionFromJson(json: Record<string, unknown>): Connection {
  const date = (key: keyof Connection) => (json[key] === null ? null : new Date(json[key] as string));
  return {
    ...(json as unknown as Connection),
    accessTokenExpiresAt: date('accessTokenExpiresAt'),
    firstLoginAt: date('firstLoginAt'),
    reauthBy: date('reauthBy'),
    tokensRefreshedAt: date('tokensRefreshedAt'),
    expiryWarnedAt: date('expiryWarnedAt'),
    createdAt: date('createdAt')!,
    updatedAt: date('updatedAt')!,
  };
}

/**
 * The owner of `connections`: every read and write of a connection row goes through here, so the
 * token columns are only ever written as vault ciphertext by the services that seal them.
 */
@Injectable()
export class ConnectionsStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxStore,
  ) {}

  create(input: { userId: string; aspspId: string; services: Service[]; returnUrl: string; externalReference: string | null }): Promise<Connection> {
    const repo = this.dataSource.getRepository(Connection);
    return repo.save(repo.create({ ...input, status: 'pending' }));
  }

  /*
   * The reads on every request path (AIS, PIS, the connections API) are plain SQL with an explicit
   * column list: TypeORM's query builder costs more CPU than the query itself.
   */

  async findById(id: string): Promise<Connection | undefined> {
    const [row]: Connection[] = await this.dataSource.query(`SELECT ${connectionColumns('k')} FROM connections k WHERE k.id = $1`, [id]);
    return row;
  }

  async findForUser(userId: string, id: string): Promise<Connection | undefined> {
    const [row]: Connection[] = await this.dataSource.query(`SELECT ${connectionColumns('k')} FROM connections k WHERE k.id = $1 AND k.user_id = $2`, [
      id,
      userId,
    ]);
    return row;
  }

  listForUser(userId: string, limit: number): Promise<Connection[]> {
    return this.dataSource.getRepository(Connection).find({ where: { userId }, order: { createdAt: 'DESC' }, take: limit });
  }

  /**
   * A completed bank login: a pending connection (first login), or one logging in again
   * (`reauth_required`, or `active` near its `reauthBy`), becomes `active` with new tokens. Its
   * consents and stored data are untouched. False when the connection has meanwhile become
   * something a login cannot revive (revoked, failed).
   */
  async activate(id: string, activation: Activation): Promise<boolean> {
    const patch = { ...activation, failureReason: null, tokensRefreshedAt: activation.firstLoginAt, expiryWarnedAt: null };
    const moved = await this.dataSource.transaction((m) =>
      moveConnection(m, this.outbox, { id, to: 'active', patch, from: ['pending', 'reauth_required', 'active'] }),
    );
    return moved !== undefined;
  }

  /** A login that failed leaves a pending connection `failed` with a machine-readable reason, no tokens; any other status is left alone. */
  async fail(id: string, reason: string): Promise<void> {
    await this.dataSource.transaction((m) => moveConnection(m, this.outbox, { id, to: 'failed', patch: { failureReason: reason }, from: ['pending'] }));
  }

  /** A connection that must not be used again (e.g. it holds another user's bank grant): `failed`, tokens forgotten. */
  async markFailed(id: string, reason: string): Promise<void> {
    const patch = { failureReason: reason, accessTokenEnc: null, refreshTokenEnc: null, accessTokenExpiresAt: null };
    await this.dataSource.transaction((m) => moveConnection(m, this.outbox, { id, to: 'failed', patch }));
  }

  async revoke(userId: string, id: string): Promise<void> {
    const patch = { accessTokenEnc: null, refreshTokenEnc: null, accessTokenExpiresAt: null };
    await this.dataSource.transaction((m) => moveConnection(m, this.outbox, { id, userId, to: 'revoked', patch }));
  }

  async markReauthRequired(id: string, reason: string): Promise<void> {
    await this.dataSource.transaction((m) => markReauthRequired(m, this.outbox, id, reason));
  }

  /** The connection as it is after the change; undefined when the user has no such connection. */
  async setExternalReference(userId: string, id: string, externalReference: string | null): Promise<Connection | undefined> {
    const repo = this.dataSource.getRepository(Connection);
    const { affected } = await repo.update({ id, userId }, { externalReference });
    return affected ? this.findForUser(userId, id) : undefined;
  }

  /** Where the frontend wants the browser back after the next bank login of this connection. */
  async setReturnUrl(id: string, returnUrl: string): Promise<void> {
    await this.dataSource.getRepository(Connection).update(id, { returnUrl });
  }

  /**
   * Marks the active connections whose bank login ends (`reauthBy`) before `until` and not yet
   * announced, and writes a `connection.expiring` event for each in the same transaction: each
   * login's end is announced once, by whichever replica gets there first. Returns how many.
   */
  async announceExpiring(now: Date, until: Date): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const rows = returningRows<{ id: string; userId: string; aspspId: string; reauthBy: Date }>(
        await m.query(
          `UPDATE connections SET expiry_warned_at = $1
            WHERE id IN (SELECT id FROM connections WHERE status = 'active' AND expiry_warned_at IS NULL AND reauth_by IS NOT NULL AND reauth_by <= $2
                         ORDER BY reauth_by LIMIT 500 FOR UPDATE SKIP LOCKED)
            RETURNING id, user_id AS "userId", aspsp_id AS "aspspId", reauth_by AS "reauthBy"`,
          [now, until],
        ),
      );
      for (const row of rows) {
        await this.outbox.record(m, {
          userId: row.userId,
          type: 'connection.expiring',
          data: { connectionId: row.id, aspspId: row.aspspId, status: 'active', reauthBy: new Date(row.reauthBy).toISOString() },
        });
      }
      return rows.length;
    });
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
        markReauthRequired: (reason) => markReauthRequired(manager, this.outbox, id, reason),
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
        await em.query(
          'UPDATE connections SET access_token_enc = COALESCE($2, access_token_enc), refresh_token_enc = COALESCE($3, refresh_token_enc) WHERE id = $1',
          [row.id, next.accessTokenEnc ?? null, next.refreshTokenEnc ?? null],
        );
        return 'written';
      });
    } catch (error) {
      if (error instanceof QueryFailedError && (error.driverError as { code?: string }).code === LOCK_NOT_AVAILABLE) return 'locked';
      throw error;
    }
  }
}

function markReauthRequired(manager: EntityManager, outbox: OutboxStore, id: string, reason: string): Promise<unknown> {
  const patch = { failureReason: reason, accessTokenEnc: null, refreshTokenEnc: null, accessTokenExpiresAt: null };
  return moveConnection(manager, outbox, { id, to: 'reauth_required', patch, from: ['active', 'reauth_required'] });
}

/** Columns a status change may write besides the status itself. */
export type ConnectionPatch = Partial<Omit<Connection, 'id' | 'userId' | 'aspspId' | 'status' | 'createdAt' | 'updatedAt'>>;

/**
 * Moves a connection to `to` under its row lock, with its `connection.status` outbox event in the
 * same transaction (`manager`'s), so SSE streams and the webhook hear of every change exactly when
 * it commits. `from` lists the statuses the move is allowed from (any when omitted); otherwise
 * nothing is written and undefined is returned. A completed bank login (`to` active) is announced
 * even from `active` (a login renewed early): its `reauthBy` moved.
 */
export async function moveConnection(
  manager: EntityManager,
  outbox: OutboxStore,
  move: { id: string; to: ConnectionStatus; patch?: ConnectionPatch; from?: readonly ConnectionStatus[]; userId?: string },
): Promise<Connection | undefined> {
  const repo = manager.getRepository(Connection);
  const row = await repo.findOne({ where: { id: move.id, ...(move.userId ? { userId: move.userId } : {}) }, lock: { mode: 'pessimistic_write' } });
  if (!row || (move.from && !move.from.includes(row.status))) return undefined;
  const previous = row.status;
  await repo.update(row.id, { ...move.patch, status: move.to });
  const moved = Object.assign(row, move.patch, { status: move.to });
  if (previous !== move.to || move.to === 'active') {
    await outbox.record(manager, {
      userId: row.userId,
      type: 'connection.status',
      data: {
        connectionId: row.id,
        aspspId: row.aspspId,
        status: move.to,
        previousStatus: previous,
        ...(moved.failureReason && move.to !== 'active' ? { reason: moved.failureReason } : {}),
        ...(moved.reauthBy ? { reauthBy: moved.reauthBy.toISOString() } : {}),
      },
    });
  }
  return moved;
}
