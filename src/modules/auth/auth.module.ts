import { Module } from '@nestjs/common';
import { AspspModule } from '../../aspsp/aspsp.module.js';
import { ConnectionsModule } from '../connections/connections.module.js';
import { AuthController } from './auth.controller.js';
import { BankPassport } from './bank-passport.js';

@Module({
  imports: [ConnectionsModule, AspspModule],
  controllers: [AuthController],
  providers: [BankPassport],
})
export class AuthModule {}
