import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TokenVaultModule } from '../token-vault/token-vault.module.js';
import { BankTokensService } from './bank-tokens.service.js';
import { ConnectionLifecycle } from './connection-lifecycle.js';
import { Connection } from './connection.entity.js';
import { ConnectionsController } from './connections.controller.js';
import { ConnectionsRepository } from './connections.repository.js';
import { ConnectionsService } from './connections.service.js';
import { LoginFlowStore } from './login-flow.store.js';

@Module({
  imports: [TypeOrmModule.forFeature([Connection]), TokenVaultModule],
  controllers: [ConnectionsController],
  providers: [ConnectionsService, ConnectionsRepository, BankTokensService, LoginFlowStore, ConnectionLifecycle],
  exports: [ConnectionsService, ConnectionsRepository, BankTokensService, LoginFlowStore, ConnectionLifecycle],
})
export class ConnectionsModule {}
