import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { randomSecret, sameHash, sha256 } from './secrets.js';
import { returningRows } from '../../database/returning.js';

export const TICKET_TTL_MS = 5 * 60_000;
export const STATE_TTL_MS = 10 * 60_000;

export type StateFailure = 'invalid_state' | 'expired_state';

export interface ConsumedState {
  connectionId: string;
}

/**
 * The owner of `login_tickets` and `oauth_states`: the server side of the login flow, in
 * PostgreSQL so any replica can serve any step.
 * - A ticket is what `authorizationUrl` carries: single use, minutes long, bound to a connection.
 * - A state is what the bank echoes back: 256 random bits, stored hashed with the bank, the
 *   browser binding and an expiry. It is consumed by one DELETE … RETURNING, so two callbacks racing
 *   with the same state can never both pass; the checks come after the row is already gone.
 */
@Injectable()
export class LoginFlowStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async issueTicket(connectionId: string): Promise<string> {
    const ticket = randomSecret();
    await this.dataSource.query('INSERT INTO login_tickets (ticket_hash, connection_id, expires_at) VALUES ($1, $2, $3)', [
      sha256(ticket),
      connectionId,
      new Date(Date.now() + TICKET_TTL_MS),
    ]);
    return ticket;
  }

  /** The connection a ticket was issued for, once; undefined when unknown, used or expired. */
  async redeemTicket(ticket: string): Promise<{ connectionId: string; expired: boolean } | undefined> {
    const rows = returningRows<{ connection_id: string; expires_at: Date }>(
      await this.dataSource.query('DELETE FROM login_tickets WHERE ticket_hash = $1 RETURNING connection_id, expires_at', [sha256(ticket)]),
    );
    const row = rows[0];
    return row ? { connectionId: row.connection_id, expired: row.expires_at.getTime() < Date.now() } : undefined;
  }

  async saveState(input: { state: string; connectionId: string; aspspId: string; binding: string; nonce?: string }): Promise<void> {
    await this.dataSource.query(
      'INSERT INTO oauth_states (state_hash, connection_id, aspsp_id, binding_hash, nonce_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [sha256(input.state), input.connectionId, input.aspspId, sha256(input.binding), input.nonce ? sha256(input.nonce) : null, new Date(Date.now() + STATE_TTL_MS)],
    );
  }

  /**
   * Consumes a state and checks it belongs to this bank and this browser and is still fresh.
   * The row is deleted whatever the outcome: a state is never usable twice.
   */
  async consumeState(state: string | undefined, aspspId: string, binding: string | undefined): Promise<ConsumedState | { failure: StateFailure; connectionId?: string }> {
    if (!state) return { failure: 'invalid_state' };
    const rows = returningRows<{ connection_id: string; aspsp_id: string; binding_hash: Buffer; expires_at: Date }>(
      await this.dataSource.query('DELETE FROM oauth_states WHERE state_hash = $1 RETURNING connection_id, aspsp_id, binding_hash, expires_at', [sha256(state)]),
    );
    const row = rows[0];
    if (!row) return { failure: 'invalid_state' };
    // A state minted for another bank arriving here is a mix-up attempt (RFC 9700 4.4).
    if (row.aspsp_id !== aspspId) return { failure: 'invalid_state' };
    // Another browser than the one that started the login: a forged or stolen callback.
    if (!binding || !sameHash(row.binding_hash, sha256(binding))) return { failure: 'invalid_state', connectionId: row.connection_id };
    if (row.expires_at.getTime() < Date.now()) return { failure: 'expired_state', connectionId: row.connection_id };
    return { connectionId: row.connection_id };
  }

  /** Housekeeping: expired tickets and states are useless; drop them. */
  async purgeExpired(): Promise<void> {
    await this.dataSource.query('DELETE FROM login_tickets WHERE expires_at < now()');
    await this.dataSource.query("DELETE FROM oauth_states WHERE expires_at < now() - interval '1 hour'");
  }
}
