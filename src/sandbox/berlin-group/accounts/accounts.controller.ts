import { Controller, Get, Param, Req } from '@nestjs/common';
import type { Request } from 'express';
import { Api, SandboxRoute, type ApiContext } from '../../gateway/request-context.js';
import { ConsentService } from '../consents/consent.service.js';
import { AccountsService } from './accounts.service.js';

/** Berlin Group account information; every call names its consent in the Consent-ID header. */
@Controller(['connectpay/psd2/v1/accounts', 'flowe/openbankingais/v1/accounts'])
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly consents: ConsentService,
  ) {}

  @Get()
  @SandboxRoute('accounts', 'ais')
  list(@Api() api: ApiContext, @Req() req: Request) {
    const consent = this.consents.forAccountAccess(api.grant, req.get('consent-id'));
    return this.accounts.list(api, consent, req, req.query.withBalance === 'true');
  }

  @Get(':accountId')
  @SandboxRoute('account', 'ais')
  details(@Api() api: ApiContext, @Param('accountId') accountId: string, @Req() req: Request) {
    const consent = this.consents.forAccountAccess(api.grant, req.get('consent-id'));
    return this.accounts.details(api, consent, accountId, req, req.query.withBalance === 'true');
  }

  @Get(':accountId/balances')
  @SandboxRoute('balances', 'ais')
  balances(@Api() api: ApiContext, @Param('accountId') accountId: string, @Req() req: Request) {
    const consent = this.consents.forAccountAccess(api.grant, req.get('consent-id'));
    return this.accounts.readBalances(api, consent, accountId);
  }

  @Get(':accountId/transactions')
  @SandboxRoute('transactions', 'ais')
  transactions(@Api() api: ApiContext, @Param('accountId') accountId: string, @Req() req: Request) {
    const consent = this.consents.forAccountAccess(api.grant, req.get('consent-id'));
    return this.accounts.transactions(api, consent, accountId, req.query as Record<string, unknown>, req);
  }
}
