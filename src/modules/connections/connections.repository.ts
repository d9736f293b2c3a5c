import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Connection } from './connection.entity.js';

/** Unscoped access for the login flow, which identifies the connection by its state, not a user. */
@Injectable()
export class ConnectionsRepository {
  constructor(@InjectRepository(Connection) private readonly connections: Repository<Connection>) {}

  async findById(id: string): Promise<Connection | undefined> {
    return (await this.connections.findOne({ where: { id } })) ?? undefined;
  }

  /** A login that failed leaves the connection `failed` with a machine-readable reason, no tokens. */
  async fail(id: string, reason: string): Promise<void> {
    await this.connections.update({ id, status: 'pending' }, { status: 'failed', failureReason: reason });
  }
}
