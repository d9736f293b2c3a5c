import { Injectable, Logger } from '@nestjs/common';
import type { AspspAdapter } from '../../aspsp/aspsp-adapter.js';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { BankError } from '../../aspsp/bank-error.js';
import type { TokenSet } from '../../aspsp/oauth/token-set.js';
import { fixHint } from '../../aspsp/http/failure-hints.js';
import type { Service } from '../../config/banks.config.js';
import { AppError } from '../../common/errors/app-error.js';
import { BankMetrics } from '../../common/metrics/bank.metrics.js';
import { TokenVaultService, VaultError } from '../token-vault/token-vault.service.js';
import { BankCallGate } from './bank-call-gate.js';
import { connectionNotUsable, reauthRequired } from './connection-errors.js';
import type { Connection } from './connection.entity.js';
import { ConnectionsStore } from './connections.store.js';
import { tokenBinding } from './token-binding.js';

/** Refresh this long before the access token expires, so a call never starts with a dying token. */
const REFRESH_MARGIN_MS = 60_000;
const DAY_MS = 86_400_000;
/**
 * After a freshly refreshed token was refused too, further refusals on the connection skip the
 * refresh for this long: refreshing again would not help and would hammer the login server.
 */
const REFUSED_AFTER_REFRESH_MS = 30_000;

/**
 * The bank tokens of a connection: stored only as vault ciphertext, handed out decrypted to a bank
 * call and nowhere else, refreshed before expiry or after the bank refuses the access token. A
 * refresh is single-flight per connection across every replica: the connection row is locked
 * (`FOR UPDATE`) while the bank is asked, and whoever gets the lock second finds fresh tokens and
 * uses them. The rotated refresh token is stored in the same transaction.
 *
 * Only the bank's refusal of the grant ends it: `invalid_grant` from the token endpoint (or no
 * refresh token to try). Anything else — the login server's 5xx or 429, `invalid_client` (an
 * expired client secret), a refused certificate, an unreachable bank, or an access token refused
 * again right after a successful refresh — is a bank or configuration error: the transaction rolls
 * back, the stored tokens stay as they were, the connection stays `active`, and the caller gets a
 * 5xx naming the bank. docs/design.md, "Connections", has the reasoning.
 */
@Injectable()
export class BankTokensService {
  private readonly logger = new Logger(BankTokensService.name);
  /** In-process single flight, so concurrent callers in one replica share one lock wait. */
  private readonly inflight = new Map<string, Promise<string>>();
  /** Connections whose freshly refreshed token the bank refused, and when (see REFUSED_AFTER_REFRESH_MS). */
  private readonly refusedAfterRefresh = new Map<string, number>();

  constructor(
    private readonly store: ConnectionsStore,
    private readonly vault: TokenVaultService,
    private readonly aspsps: AspspRegistry,
    private readonly metrics: BankMetrics,
    private readonly gate: BankCallGate,
  ) {}

  /** Stores the tokens of a completed login and activates the connection with the services granted. */
  async activate(connection: Connection, tokens: TokenSet, adapter: AspspAdapter, services: Service[]): Promise<boolean> {
    const connectionId = connection.id;
    const now = new Date();
    return this.store.activate(connectionId, {
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
   * Runs `call` with a valid access token. When the bank names the token as invalid, expired or
   * unknown (`TOKEN_*`), the token is refreshed once and the call retried once. A refusal of the
   * freshly refreshed token is read as a bank or configuration error (the token endpoint just
   * vouched for the grant; a scope or credential problem on the API side is the likelier cause):
   * a 502 naming the bank, the connection and its tokens untouched. docs/banks.md, ambiguity 16.
   */
  withAccessToken<T>(connection: Connection, call: (accessToken: string) => Promise<T>): Promise<T> {
    // The user's and the connection's share of the banks (BankCallGate), for the whole exchange.
    return this.gate.run(connection, () => this.callWithToken(connection, call));
  }

  private async callWithToken<T>(connection: Connection, call: (accessToken: string) => Promise<T>): Promise<T> {
    const token = await this.accessToken(connection);
    try {
      return await call(token);
    } catch (error) {
      if (!(error instanceof BankError) || error.kind !== 'token_invalid') throw error;
      const refusedAt = this.refusedAfterRefresh.get(connection.id);
      if (refusedAt !== undefined && Date.now() - refusedAt < REFUSED_AFTER_REFRESH_MS) throw this.refusedAfterRefreshError(connection, error, false);
    }
    const fresh = await this.refresh(connection.id, token);
    try {
      const result = await call(fresh);
      this.refusedAfterRefresh.delete(connection.id);
      return result;
    } catch (error) {
      if (error instanceof BankError && error.kind === 'token_invalid') {
        this.refusedAfterRefresh.set(connection.id, Date.now());
        if (this.refusedAfterRefresh.size > 10_000) this.refusedAfterRefresh.clear();
        throw this.refusedAfterRefreshError(connection, error, true);
      }
      throw error;
    }
  }

  private refusedAfterRefreshError(connection: Connection, refusal: BankError, log: boolean): BankError {
    const error = new BankError(connection.aspspId, 'misconfigured', 'the bank refused a freshly refreshed access token; the connection is kept', {
      status: refusal.details.status,
      bankCode: refusal.details.bankCode,
      cause: 'token_refused_after_refresh',
    });
    this.metrics.callFailed(connection.aspspId, 'api', 'token_refused_after_refresh');
    if (log) {
      const hint = fixHint(this.aspsps.get(connection.aspspId).bank, 'token_refused_after_refresh');
      this.logger.error(
        { connectionId: connection.id, aspspId: connection.aspspId, bankCode: refusal.details.bankCode, cause: 'token_refused_after_refresh' },
        hint ?? error.message,
      );
    }
    return error;
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
        if (error instanceof BankError && error.kind === 'token_invalid') {
          // invalid_grant: spent, revoked, or past the bank's re-login deadline (Flowe: 90 days).
          this.metrics.tokenRefreshed(row.aspspId, 'grant_refused');
          this.logger.warn({ connectionId, aspspId: row.aspspId, oauthError: error.details.oauthError }, 'refresh refused: re-authentication required');
          await locked.markReauthRequired('refresh_refused');
          return { reauth: row.aspspId };
        }
        // Anything else is the bank's or ours to fix: the rollback keeps the stored tokens.
        this.metrics.tokenRefreshed(row.aspspId, 'failed');
        throw error;
      }
      await locked.saveRefreshed({
        accessTokenEnc: this.vault.seal(tokens.accessToken, tokenBinding(row, 'access_token')),
        // Banks that rotate send a new refresh token (store it before anyone uses it); others don't.
        ...(tokens.refreshToken ? { refreshTokenEnc: this.vault.seal(tokens.refreshToken, tokenBinding(row, 'refresh_token')) } : {}),
        accessTokenExpiresAt: tokens.expiresAt,
      });
      this.metrics.tokenRefreshed(row.aspspId, 'ok');
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
