import { Module } from '@nestjs/common';
import { ConnectPayOAuthController } from './connectpay/connectpay-oauth.controller.js';
import { FloweOAuthController } from './flowe/flowe-oauth.controller.js';
import { LoginRequestsService } from './login-requests.service.js';
import { TokenEndpointService } from './token-endpoint.service.js';

/** The two banks' authorize endpoints, login pages and token endpoints. */
@Module({
  controllers: [ConnectPayOAuthController, FloweOAuthController],
  providers: [LoginRequestsService, TokenEndpointService],
})
export class OAuthModule {}
