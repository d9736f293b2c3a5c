import { Body, Controller, Delete, Get, Inject, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, BANK_FAILURES } from '../../common/errors/problem.view.js';
import { appConfig } from '../../config/app.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { Authenticated, CurrentUser, type AuthenticatedUser } from '../identity/index.js';
import { ConsentBudgets } from './consent-budgets.service.js';
import type { AisConsent } from './consent.entity.js';
import { ConsentsService } from './consents.service.js';
import { ConsentListView, ConsentView, toConsentView } from './consent.view.js';
import { CreateConsentDto } from './dto/create-consent.dto.js';
import { RefreshQueryDto } from './dto/read-query.dto.js';
import { PsuIp } from './psu-ip.decorator.js';

const uuid = new ParseUUIDPipe({ version: '4' });

@ApiTags('ais')
@Authenticated()
@Controller('api/v1')
export class ConsentsController {
  constructor(
    private readonly consents: ConsentsService,
    private readonly budgets: ConsentBudgets,
    @Inject(appConfig.KEY) private readonly app: ConfigOf<typeof appConfig>,
  ) {}

  @Post('connections/:id/consents')
  @ApiOperation({
    operationId: 'createConsent',
    summary: 'Ask the bank for an account-information consent; the PSU then approves it in their bank app',
    description:
      "Defaults: recurring, as long and as often as the bank allows (today + 90 days, 4 a day). The bank's rules are checked first (400 naming the rule). " +
      'The request is recorded before the bank is asked; status starts as received; poll GET /consents/{id} or listen to consent.status events. ' +
      'If the bank does not answer usably (timeout, 500, 502, 504) the answer is that 5xx with consentId and consentStatus "unknown": the consent is kept, never re-sent, and reconciled when the bank gave its id.',
  })
  @ApiCreatedResponse({ type: ConsentView })
  @ApiProblems('validation_failed', 'not_found', 'service_not_granted', 'connection_not_active', ...BANK_FAILURES)
  async create(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', uuid) connectionId: string,
    @Body() body: CreateConsentDto,
    @PsuIp() psuIp: string,
  ): Promise<ConsentView> {
    return this.view(await this.consents.create(user.id, connectionId, body ?? {}, psuIp));
  }

  @Get('connections/:id/consents')
  @ApiOperation({ operationId: 'listConnectionConsents', summary: "The connection's consents, newest first" })
  @ApiOkResponse({ type: ConsentListView })
  async listForConnection(@CurrentUser() user: AuthenticatedUser, @Param('id', uuid) connectionId: string): Promise<{ consents: ConsentView[] }> {
    return { consents: await this.views(await this.consents.list(user.id, connectionId)) };
  }

  @Get('consents')
  @ApiOperation({ operationId: 'listConsents', summary: "All the user's consents, newest first" })
  @ApiOkResponse({ type: ConsentListView })
  async list(@CurrentUser() user: AuthenticatedUser): Promise<{ consents: ConsentView[] }> {
    return { consents: await this.views(await this.consents.list(user.id)) };
  }

  @Get('consents/:id')
  @ApiOperation({ operationId: 'getConsent', summary: 'The consent as last polled; refresh=true asks the bank once now' })
  @ApiOkResponse({ type: ConsentView })
  @ApiProblems('not_found', ...BANK_FAILURES)
  async get(@CurrentUser() user: AuthenticatedUser, @Param('id', uuid) id: string, @Query() query: RefreshQueryDto): Promise<ConsentView> {
    return this.view(await this.consents.get(user.id, id, query.refresh === 'true'));
  }

  @Delete('consents/:id')
  @ApiOperation({
    operationId: 'deleteConsent',
    summary: 'End the consent at the bank and here (terminatedByTpp); 409 while it is still being requested (pending)',
  })
  @ApiOkResponse({ type: ConsentView })
  @ApiProblems('not_found', 'consent_not_valid', ...BANK_FAILURES)
  async remove(@CurrentUser() user: AuthenticatedUser, @Param('id', uuid) id: string): Promise<ConsentView> {
    return this.view(await this.consents.terminate(user.id, id));
  }

  private async view(consent: AisConsent): Promise<ConsentView> {
    return toConsentView(consent, await this.budgets.describeOne(consent), this.app.expiryWarningMs);
  }

  private async views(consents: AisConsent[]): Promise<ConsentView[]> {
    const refresh = await this.budgets.describe(consents);
    return consents.map((c) => toConsentView(c, refresh.get(c.id)!, this.app.expiryWarningMs));
  }
}
