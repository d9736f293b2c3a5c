import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AspspModule } from '../../aspsp/aspsp.module.js';
import { EventsModule } from '../events/events.module.js';
import { IdentityModule } from '../identity/identity.module.js';
import { PollingModule } from '../polling/polling.module.js';
import { TokenVaultModule } from '../token-vault/token-vault.module.js';
import { AspspLogoController } from './aspsp-logo.controller.js';
import { BankCallGate } from './bank-call-gate.js';
import { BankIdentityService } from './bank-identity.service.js';
import { BankIdentityStore } from './bank-identity.store.js';
import { BankTokensService } from './bank-tokens.service.js';
import { ConnectionLifecycle } from './connection-lifecycle.js';
import { Connection } from './connection.entity.js';
import { ConnectionsController } from './connections.controller.js';
import { ConnectionsService } from './connections.service.js';
import { ConnectionsStore } from './connections.store.js';
import { ConnectionExpiryWarnings } from './expiry-warnings.js';

/**
 * A user's links to banks and the bank tokens behind them. Owns the `connections` table
 * (`ConnectionsStore`, not exported). Other modules use the services: `ConnectionsService`
 * (create, read, revoke; `activate` and `fail` for the bank login), `BankTokensService` (a valid
 * access token for a bank call), `ConnectionLifecycle` (act before a connection is revoked) and
 * `BankIdentityService` (refuse a connection whose bank accounts belong to another user's). Also
 * owns `bank_identities` (`BankIdentityStore`). Every status change is announced as a
 * `connection.status` outbox event in its own transaction; housekeeping announces bank logins
 * about to end (`connection.expiring`).
 */
@Module({
  imports: [TypeOrmModule.forFeature([Connection]), TokenVaultModule, AspspModule, IdentityModule, EventsModule, PollingModule],
  controllers: [ConnectionsController, AspspLogoController],
  providers: [
    ConnectionsService,
    ConnectionsStore,
    BankTokensService,
    ConnectionLifecycle,
    BankCallGate,
    BankIdentityStore,
    BankIdentityService,
    ConnectionExpiryWarnings,
  ],
  exports: [ConnectionsService, BankTokensService, ConnectionLifecycle, BankIdentityService],
})
export class ConnectionsModule {}
