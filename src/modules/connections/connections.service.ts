import { Inject, Injectable } from '@nestjs/common';
import type { AspspAdapter } from '../../aspsp/aspsp-adapter.js';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import type { TokenSet } from '../../aspsp/oauth/token-set.js';
import { AppError } from '../../common/errors/app-error.js';
import { appConfig } from '../../config/app.config.js';
import type { Service } from '../../config/banks.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { BankTokensService } from './bank-tokens.service.js';
import { ConnectionLifecycle } from './connection-lifecycle.js';
import type { Connection } from './connection.entity.js';
import { notReauthorizable } from './connection-errors.js';
import { toConnectionView, type ConnectionView } from './connection.view.js';
import { ConnectionsStore } from './connections.store.js';
import { expiresSoon } from './expiry-warnings.js';
import { checkReturnUrl } from './return-url.js';

/**
 * Connections of one user. Every user-facing read is scoped by user: another user's id is simply
 * not found. `findById` and `fail` are for the bank login and background work.
 */
@Injectable()
export class ConnectionsService {
  constructor(
    private readonly store: ConnectionsStore,
    private readonly aspsps: AspspRegistry,
    @Inject(appConfig.KEY) private readonly app: ConfigOf<typeof appConfig>,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly tokens: BankTokensService,
  ) {}

  async create(userId: string, input: { aspspId: string; services?: Service[]; returnUrl: string; externalReference?: string }): Promise<Connection> {
    const adapter = this.aspsps.get(input.aspspId);
    const returnUrl = checkReturnUrl(input.returnUrl, this.app.frontendReturnUrls);
    const services = input.services ?? adapter.bank.services;
    const unsupported = services.filter((s) => !adapter.bank.services.includes(s));
    if (unsupported.length > 0) {
      throw AppError.validation([{ field: 'services', message: `${adapter.bank.name} does not offer ${unsupported.join(', ')}` }]);
    }
    return this.store.create({ userId, aspspId: adapter.id, services, returnUrl, externalReference: input.externalReference ?? null });
  }

  /** Sets (or with null, clears) the integrator's reference of one of this user's connections, in any status. */
  async setExternalReference(userId: string, id: string, externalReference: string | null): Promise<Connection> {
    const connection = await this.store.setExternalReference(userId, id, externalReference);
    if (!connection) throw AppError.notFound('Connection');
    return connection;
  }

  /** What the frontend sees of a connection. */
  view(connection: Connection): ConnectionView {
    return toConnectionView(connection, this.app.expiryWarningMs);
  }

  /**
   * A connection of this user that a new bank login may renew in place: `reauth_required`, or
   * `active` with its `reauthBy` within EXPIRY_WARNING_DAYS. A new `returnUrl` (on the allow-list)
   * replaces the stored one. Otherwise 409 `connection_not_reauthorizable` (404 for another user's).
   */
  async forReauthorization(userId: string, id: string, returnUrl: string | undefined): Promise<Connection> {
    const connection = await this.get(userId, id);
    const renewable = connection.status === 'reauth_required' || (connection.status === 'active' && expiresSoon(connection.reauthBy, this.app.expiryWarningMs));
    if (!renewable) throw notReauthorizable(connection);
    this.aspsps.get(connection.aspspId); // the bank must still be configured
    if (returnUrl !== undefined) {
      connection.returnUrl = checkReturnUrl(returnUrl, this.app.frontendReturnUrls);
      await this.store.setReturnUrl(connection.id, connection.returnUrl);
    }
    return connection;
  }

  list(userId: string): Promise<Connection[]> {
    return this.store.listForUser(userId, 200);
  }

  async get(userId: string, id: string): Promise<Connection> {
    const connection = await this.store.findForUser(userId, id);
    if (!connection) throw AppError.notFound('Connection');
    return connection;
  }

  /**
   * Ends what the bank allows us to end (AIS consents are terminated through their hook while the
   * tokens still work), then forgets the bank's tokens; the connection stays listed as `revoked`.
   */
  async revoke(userId: string, id: string): Promise<void> {
    const connection = await this.get(userId, id);
    if (connection.status === 'active') await this.lifecycle.beforeRevoke(userId, connection.id);
    await this.store.revoke(userId, connection.id);
  }

  /**
   * A connection by id alone, for the bank login (which knows it by its state, not by a user) and
   * for background work (polls, refreshes) that acts for whoever owns the consent or payment.
   */
  findById(id: string): Promise<Connection | undefined> {
    return this.store.findById(id);
  }

  /**
   * A login that succeeded: the bank's tokens are sealed and stored, the connection becomes
   * `active` with the services the bank granted (a partial grant narrows them). A connection
   * logging in again keeps its id, consents and stored data. False when the connection was
   * revoked or failed meanwhile (nothing is stored).
   */
  activate(connection: Connection, tokens: TokenSet, adapter: AspspAdapter, services: Service[]): Promise<boolean> {
    return this.tokens.activate(connection, tokens, adapter, services);
  }

  /** A login that failed: a pending connection becomes `failed` with a machine-readable reason, no tokens. */
  fail(id: string, reason: string): Promise<void> {
    return this.store.fail(id, reason);
  }
}
