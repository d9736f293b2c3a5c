import { Injectable, Logger } from '@nestjs/common';
import type { AspspAdapter } from '../../aspsp/aspsp-adapter.js';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { BankError } from '../../aspsp/bank-error.js';
import type { TokenSet } from '../../aspsp/oauth/token-set.js';
import type { Service } from '../../config/banks.config.js';
import { AppError } from '../../common/errors/app-error.js';
import { TokenVaultService, VaultError } from '../token-vault/token-vault.service.js';
import { connectionNotUsable, reauthRequired } from './connection-errors.js';
import type { Connection } from './connection.entity.js';
import { ConnectionsStore } from './connections.store.js';
import { tokenBinding } from './token-binding.js';

/** Refresh this long before the access token expires, so a call never starts with a dying token. */
const REFRESH_MARGIN_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * The bank tokens of a connection: stored only as vault ciphertext, handed out decrypted to a bank
 * call and nowhere else, refreshed before expiry or after a 401. A refresh is single-flight per
 * connection across every replica: the connection row is locked (`FOR UPDATE`) while the bank is
 * asked, and whoever gets the lock second finds fresh tokens and uses them. The rotated refresh
 * token is stored in the same transaction; if the bank fails (5xx, timeout) the transaction rolls
 * back and the old refresh token is kept.
 */
@Injectable()
export class BankTokensService {
  private readonly logger = new Logger(BankTokensService.name);
  /** In-process single flight, so concurrent callers in one replica share one lock wait. */
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly store: ConnectionsStore,
    private readonly vault: TokenVaultService,
    private readonly aspsps: AspspRegistry,
  ) {}

  /** Stores the tokens of a completed login and activates the connection with the services granted. */
  async activate(connection: Connection, tokens: TokenSet, adapter: AspspAdapter, services: Service[]): Promise<void> {
    const connectionId = connection.id;
    const now = new Date();
    await this.store.activate(connectionId, {
      services,
      accessTokenEnc: this.vault.seal(tokens.accessToken, tokenBinding(connection, 'access_token')),
      refreshTokenEnc: tokens.refreshToken ? this.vault.seal(tokens.refreshToken, tokenBinding(connection, 'refresh_token')) : null,
      accessTokenExpiresAt: tokens.expiresAt,
      grantedScope: tokens.scope ?? null,
      firstLoginAt: now,
      reauthBy: adapter.reloginAfterDays ? new Date(now.getTime() + adapter.reloginAfterDays * DAY_MS) : null,
    });
  }

  /** A usable access token for a bank call, refreshed first when it is about to expire. */
  async accessToken(connection: Connection): Promise<string> {
    try {
      return await this.usableAccessToken(connection);
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      // A ciphertext that does not open (tampered, copied from another row, key removed) is never
      // worked around: the connection needs a new login.
      this.logger.error({ connectionId: connection.id, vaultError: error.kind }, 'stored bank tokens cannot be decrypted');
      await this.store.markReauthRequired(connection.id, 'vault_error');
      throw reauthRequired(connection.aspspId);
    }
  }

  private async usableAccessToken(connection: Connection): Promise<string> {
    this.assertUsable(connection);
    if (connection.accessTokenEnc && connection.accessTokenExpiresAt && connection.accessTokenExpiresAt.getTime() - Date.now() > REFRESH_MARGIN_MS) {
      return this.vault.open(connection.accessTokenEnc, tokenBinding(connection, 'access_token'));
    }
    const current = connection.accessTokenEnc ? this.vault.open(connection.accessTokenEnc, tokenBinding(connection, 'access_token')) : null;
    return this.refresh(connection.id, current);
  }

  /**
   * Refreshes unless someone already replaced `staleAccessToken` with a token that is still good.
   * Used before expiry and after a bank 401 (pass the token that was refused).
   */
  refresh(connectionId: string, staleAccessToken: string | null): Promise<string> {
    const running = this.inflight.get(connectionId);
    if (running) return running;
    const flight = this.refreshLocked(connectionId, staleAccessToken).finally(() => this.inflight.delete(connectionId));
    this.inflight.set(connectionId, flight);
    return flight;
  }

  /**
   * Runs `call` with a valid access token; on a bank 401 refreshes once and retries once. A second
   * 401 means the bank no longer accepts this connection: it moves to `reauth_required`.
   */
  async withAccessToken<T>(connection: Connection, call: (accessToken: string) => Promise<T>): Promise<T> {
    const token = await this.accessToken(connection);
    try {
      return await call(token);
    } catch (error) {
      if (!(error instanceof BankError) || error.kind !== 'token_invalid') throw error;
    }
    const fresh = await this.refresh(connection.id, token);
    try {
      return await call(fresh);
    } catch (error) {
      if (error instanceof BankError && error.kind === 'token_invalid') {
        await this.store.markReauthRequired(connection.id, 'token_rejected');
        throw reauthRequired(connection.aspspId, 'the bank no longer accepts this connection; the user must log in again');
      }
      throw error;
    }
  }

  private async refreshLocked(connectionId: string, staleAccessToken: string | null): Promise<string> {
    // Refusals are recorded inside the transaction and raised after it commits.
    const outcome = await this.store.locked(connectionId, async (locked): Promise<{ token: string } | { reauth: string }> => {
      const row = locked.row;
      if (!row) throw AppError.notFound('Connection');
      this.assertUsable(row);
      const current = row.accessTokenEnc ? this.vault.open(row.accessTokenEnc, tokenBinding(row, 'access_token')) : null;
      if (current && current !== staleAccessToken && row.accessTokenExpiresAt && row.accessTokenExpiresAt.getTime() - Date.now() > REFRESH_MARGIN_MS) {
        return { token: current }; // another caller refreshed while we waited for the lock
      }
      if (!row.refreshTokenEnc) {
        await locked.markReauthRequired('no_refresh_token');
        return { reauth: row.aspspId };
      }
      const adapter = this.aspsps.get(row.aspspId);
      const refreshToken = this.vault.open(row.refreshTokenEnc, tokenBinding(row, 'refresh_token'));
      let tokens: TokenSet;
      try {
        tokens = await adapter.tokens.refresh(refreshToken, row.services);
      } catch (error) {
        if (error instanceof BankError && (error.kind === 'token_invalid' || error.kind === 'rejected')) {
          // invalid_grant: spent, revoked, or past the bank's re-login deadline (Flowe: 90 days).
          this.logger.warn({ connectionId, aspspId: row.aspspId, oauthError: error.details.oauthError }, 'refresh refused: re-authentication required');
          await locked.markReauthRequired('refresh_refused');
          return { reauth: row.aspspId };
        }
        throw error;
      }
      await locked.saveRefreshed({
        accessTokenEnc: this.vault.seal(tokens.accessToken, tokenBinding(row, 'access_token')),
        // Banks that rotate send a new refresh token (store it before anyone uses it); others don't.
        ...(tokens.refreshToken ? { refreshTokenEnc: this.vault.seal(tokens.refreshToken, tokenBinding(row, 'refresh_token')) } : {}),
        accessTokenExpiresAt: tokens.expiresAt,
      });
      this.logger.log({ connectionId, aspspId: row.aspspId }, 'bank tokens refreshed');
      return { token: tokens.accessToken };
    });
    if ('reauth' in outcome) throw reauthRequired(outcome.reauth);
    return outcome.token;
  }

  private assertUsable(connection: Connection): void {
    if (connection.status !== 'active') throw connectionNotUsable(connection);
  }
}
