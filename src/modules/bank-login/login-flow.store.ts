import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { randomSecret, sameHash, sha256 } from './secrets.js';
import { returningRows } from '../../database/returning.js';

export const TICKET_TTL_MS = 5 * 60_000;
export const STATE_TTL_MS = 10 * 60_000;
/** Confirmation pages one login link may show (each is a row until the ticket goes). */
export const MAX_CONFIRMATIONS_PER_TICKET = 20;

export type StateFailure = 'invalid_state' | 'expired_state';

export interface ConsumedState {
  connectionId: string;
}

/** A ticket as the login route sees it before deciding how to redeem it. */
export interface PresentedTicket {
  connectionId: string;
  expired: boolean;
  /** Who the connection belongs to, as the confirmation page names them. */
  userLabel: string;
}

/**
 * The owner of `login_tickets`, `login_confirmations` and `oauth_states`: the server side of the
 * login flow, in PostgreSQL so any replica can serve any step.
 * - A ticket is what `authorizationUrl` carries: single use, minutes long, bound to a connection
 *   and to the browser binding set when the connection was created (docs/design.md, "Bank login").
 * - A confirmation is the one-time token of the page that asks a browser without that binding who
 *   the bank will be attached to; it is bound to the browser the page was shown in.
 * - A state is what the bank echoes back: 256 random bits, stored hashed with the bank, the
 *   browser binding and an expiry. It is consumed by one DELETE … RETURNING, so two callbacks racing
 *   with the same state can never both pass; the checks come after the row is already gone.
 */
@Injectable()
export class LoginFlowStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A ticket for a new connection, bound to the browser that created it and labelled with its user. */
  async issueTicket(connectionId: string, input: { browserBinding: string; userLabel: string }): Promise<string> {
    const ticket = randomSecret();
    await this.dataSource.query('INSERT INTO login_tickets (ticket_hash, connection_id, expires_at, browser_hash, user_label) VALUES ($1, $2, $3, $4, $5)', [
      sha256(ticket),
      connectionId,
      new Date(Date.now() + TICKET_TTL_MS),
      sha256(input.browserBinding),
      input.userLabel,
    ]);
    return ticket;
  }

  /**
   * Redeems a ticket presented by the browser that created its connection: one DELETE that
   * matches the ticket and the browser binding together, so a ticket is used at most once and
   * never by another browser. Undefined when unknown, used, or presented by another browser.
   */
  async redeemBoundTicket(ticket: string, browserBinding: string): Promise<{ connectionId: string; expired: boolean } | undefined> {
    const rows = returningRows<{ connection_id: string; expires_at: Date }>(
      await this.dataSource.query('DELETE FROM login_tickets WHERE ticket_hash = $1 AND browser_hash = $2 RETURNING connection_id, expires_at', [
        sha256(ticket),
        sha256(browserBinding),
      ]),
    );
    const row = rows[0];
    return row ? { connectionId: row.connection_id, expired: row.expires_at.getTime() < Date.now() } : undefined;
  }

  /** A ticket as it stands, without using it; undefined when unknown or already used. */
  async findTicket(ticket: string): Promise<PresentedTicket | undefined> {
    const rows = (await this.dataSource.query('SELECT connection_id, expires_at, user_label FROM login_tickets WHERE ticket_hash = $1', [sha256(ticket)])) as {
      connection_id: string;
      expires_at: Date;
      user_label: string;
    }[];
    const row = rows[0];
    return row ? { connectionId: row.connection_id, expired: row.expires_at.getTime() < Date.now(), userLabel: row.user_label } : undefined;
  }

  /** Drops a ticket that can no longer be used (expired, or its connection moved on). */
  async dropTicket(ticket: string): Promise<void> {
    await this.dataSource.query('DELETE FROM login_tickets WHERE ticket_hash = $1', [sha256(ticket)]);
  }

  /**
   * The one-time token of a confirmation page, bound to the browser it is shown in (the hash of
   * that browser's start cookie). It lives no longer than its ticket and dies with it. Undefined
   * once the link has shown MAX_CONFIRMATIONS_PER_TICKET pages.
   */
  async issueConfirmation(ticket: string, browserBinding: string): Promise<string | undefined> {
    const token = randomSecret();
    // A link opened this often is not a person confirming a login: no more rows for it.
    const rows = returningRows<{ token_hash: Buffer }>(
      await this.dataSource.query(
        `INSERT INTO login_confirmations (token_hash, ticket_hash, binding_hash, expires_at)
         SELECT $1, ticket_hash, $3, expires_at FROM login_tickets
          WHERE ticket_hash = $2 AND (SELECT count(*) FROM login_confirmations WHERE ticket_hash = $2) < $4
         RETURNING token_hash`,
        [sha256(token), sha256(ticket), sha256(browserBinding), MAX_CONFIRMATIONS_PER_TICKET],
      ),
    );
    return rows.length > 0 ? token : undefined;
  }

  /**
   * Consumes a confirmation token (whatever happens next, it is used up) and, when it was shown in
   * this browser, redeems its ticket. Undefined when the token is unknown or used, or the browser
   * is not the one the page was shown in: a forged or replayed submission.
   */
  async redeemConfirmedTicket(token: string, browserBinding: string | undefined): Promise<{ connectionId: string; expired: boolean } | undefined> {
    const confirmations = returningRows<{ ticket_hash: Buffer; binding_hash: Buffer }>(
      await this.dataSource.query('DELETE FROM login_confirmations WHERE token_hash = $1 RETURNING ticket_hash, binding_hash', [sha256(token)]),
    );
    const confirmation = confirmations[0];
    if (!confirmation || !browserBinding || !sameHash(confirmation.binding_hash, sha256(browserBinding))) return undefined;
    const rows = returningRows<{ connection_id: string; expires_at: Date }>(
      await this.dataSource.query('DELETE FROM login_tickets WHERE ticket_hash = $1 RETURNING connection_id, expires_at', [confirmation.ticket_hash]),
    );
    const row = rows[0];
    return row ? { connectionId: row.connection_id, expired: row.expires_at.getTime() < Date.now() } : undefined;
  }

  async saveState(input: { state: string; connectionId: string; aspspId: string; binding: string; nonce?: string }): Promise<void> {
    await this.dataSource.query(
      'INSERT INTO oauth_states (state_hash, connection_id, aspsp_id, binding_hash, nonce_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [
        sha256(input.state),
        input.connectionId,
        input.aspspId,
        sha256(input.binding),
        input.nonce ? sha256(input.nonce) : null,
        new Date(Date.now() + STATE_TTL_MS),
      ],
    );
  }

  /**
   * Consumes a state and checks it belongs to this bank and this browser and is still fresh.
   * The row is deleted whatever the outcome: a state is never usable twice.
   */
  async consumeState(
    state: string | undefined,
    aspspId: string,
    binding: string | undefined,
  ): Promise<ConsumedState | { failure: StateFailure; connectionId?: string }> {
    if (!state) return { failure: 'invalid_state' };
    const rows = returningRows<{ connection_id: string; aspsp_id: string; binding_hash: Buffer; expires_at: Date }>(
      await this.dataSource.query('DELETE FROM oauth_states WHERE state_hash = $1 RETURNING connection_id, aspsp_id, binding_hash, expires_at', [
        sha256(state),
      ]),
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
    await this.dataSource.query('DELETE FROM login_tickets WHERE expires_at < now()'); // confirmations go with them
    await this.dataSource.query("DELETE FROM oauth_states WHERE expires_at < now() - interval '1 hour'");
  }
}
