import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { AppError } from '../../common/errors/app-error.js';
import { appConfig } from '../../config/app.config.js';
import type { Service } from '../../config/banks.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { ConnectionLifecycle } from './connection-lifecycle.js';
import { Connection } from './connection.entity.js';
import { checkReturnUrl } from './return-url.js';

/** Connections of one user. Every read is scoped by user: another user's id is simply not found. */
@Injectable()
export class ConnectionsService {
  constructor(
    @InjectRepository(Connection) private readonly connections: Repository<Connection>,
    private readonly aspsps: AspspRegistry,
    @Inject(appConfig.KEY) private readonly app: ConfigOf<typeof appConfig>,
    private readonly lifecycle: ConnectionLifecycle,
  ) {}

  async create(userId: string, input: { aspspId: string; services?: Service[]; returnUrl: string }): Promise<Connection> {
    const adapter = this.aspsps.get(input.aspspId);
    const returnUrl = checkReturnUrl(input.returnUrl, this.app.frontendReturnUrls);
    const services = input.services ?? adapter.bank.services;
    const unsupported = services.filter((s) => !adapter.bank.services.includes(s));
    if (unsupported.length > 0) {
      throw AppError.validation([{ field: 'services', message: `${adapter.bank.name} does not offer ${unsupported.join(', ')}` }]);
    }
    return this.connections.save(this.connections.create({ userId, aspspId: adapter.id, services, status: 'pending', returnUrl }));
  }

  list(userId: string): Promise<Connection[]> {
    return this.connections.find({ where: { userId }, order: { createdAt: 'DESC' }, take: 200 });
  }

  async get(userId: string, id: string): Promise<Connection> {
    const connection = await this.connections.findOne({ where: { id, userId } });
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
    await this.connections.update(
      { id: connection.id, userId },
      { status: 'revoked', accessTokenEnc: null, refreshTokenEnc: null, accessTokenExpiresAt: null },
    );
  }
}
