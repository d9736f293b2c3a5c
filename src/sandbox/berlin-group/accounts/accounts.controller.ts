import { Controller, Get, Param, Req } from '@nestjs/common';
import type { Request } from 'express';
import { Api, SandboxRoute, type ApiContext } from '../../gateway/request-context.js';
import { formatError } from '../bg-error.js';
import { ConsentService, type Consent } from '../consents/consent.service.js';
import { AccountsService } from './accounts.service.js';

/**
 * Berlin Group account information; every call names its consent in the Consent-ID header, and every
 * unattended one is a use of it under the bank's `budgetCounting` mode.
 */
@Controller(['connectpay/psd2/v1/accounts', 'flowe/openbankingais/v1/accounts'])
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly consents: ConsentService,
  ) {}

  @Get()
  @SandboxRoute('accounts', 'ais')
  list(@Api() api: ApiContext, @Req() req: Request) {
    return this.accounts.list(api, this.consent(api, req), req, withBalance(req));
  }

  @Get(':accountId')
  @SandboxRoute('account', 'ais')
  details(@Api() api: ApiContext, @Param('accountId') accountId: string, @Req() req: Request) {
    return this.accounts.details(api, this.consent(api, req), accountId, req, withBalance(req));
  }

  @Get(':accountId/balances')
  @SandboxRoute('balances', 'ais')
  balances(@Api() api: ApiContext, @Param('accountId') accountId: string, @Req() req: Request) {
    return this.accounts.readBalances(api, this.consent(api, req), accountId);
  }

  @Get(':accountId/transactions')
  @SandboxRoute('transactions', 'ais')
  transactions(@Api() api: ApiContext, @Param('accountId') accountId: string, @Req() req: Request) {
    const consent = this.consent(api, req);
    withBalance(req);
    return this.accounts.transactions(api, consent, accountId, req.query as Record<string, unknown>, req);
  }

  private consent(api: ApiContext, req: Request): Consent {
    const consent = this.consents.forAccountAccess(api.grant, req.get('consent-id'));
    this.accounts.useConsent(api, consent);
    return consent;
  }
}

/** `withBalance` is a boolean query parameter (Berlin Group): `true`, `false` or absent. */
function withBalance(req: Request): boolean {
  const value = req.query.withBalance;
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw formatError('withBalance must be true or false', 'withBalance');
}
