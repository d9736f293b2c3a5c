import { Module } from '@nestjs/common';
import { AspspModule } from '../../aspsp/aspsp.module.js';
import { ConnectionsModule } from '../connections/connections.module.js';
import { IdentityModule } from '../identity/identity.module.js';
import { AuthController } from './auth.controller.js';
import { BankLoginService } from './bank-login.service.js';
import { BankPassport } from './bank-passport.js';
import { ConnectController } from './connect.controller.js';
import { LoginFlowStore } from './login-flow.store.js';

/**
 * The bank login in one place: ticket, state, browser binding, passport-oauth2 driving the
 * protocol, and the callback. Owns `login_tickets` and `oauth_states` (`LoginFlowStore`); it ends a
 * login through `ConnectionsService.activate` / `fail`. Exports `BankLoginService` for housekeeping.
 */
@Module({
  imports: [AspspModule, ConnectionsModule, IdentityModule],
  controllers: [ConnectController, AuthController],
  providers: [BankLoginService, BankPassport, LoginFlowStore],
  exports: [BankLoginService],
})
export class BankLoginModule {}
