import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, BANK_FAILURES } from '../../common/errors/problem.view.js';
import { Authenticated, CurrentUser, type AuthenticatedUser } from '../identity/index.js';
import { ConsentsService } from './consents.service.js';
import { ConsentView, toConsentView } from './consent.view.js';
import { CreateConsentDto } from './dto/create-consent.dto.js';
import { RefreshQueryDto } from './dto/read-query.dto.js';
import { PsuIp } from './psu-ip.decorator.js';

const uuid = new ParseUUIDPipe({ version: '4' });

@ApiTags('ais')
@Authenticated()
@Controller('api/v1')
export class ConsentsController {
  constructor(private readonly consents: ConsentsService) {}

  @Post('connections/:id/consents')
  @ApiOperation({
    summary: 'Ask the bank for an account-information consent; the PSU then approves it in their bank app',
    description: "Defaults: recurring, today + 90 days, 4 reads a day. The bank's rules are checked first (400 naming the rule). Status starts as received; poll GET /consents/{id} or listen to consent.status events.",
  })
  @ApiCreatedResponse({ type: ConsentView })
  @ApiProblems('validation_failed', 'not_found', 'service_not_granted', 'connection_not_active', ...BANK_FAILURES)
  async create(@CurrentUser() user: AuthenticatedUser, @Param('id', uuid) connectionId: string, @Body() body: CreateConsentDto, @PsuIp() psuIp: string): Promise<ConsentView> {
    return toConsentView(await this.consents.create(user.id, connectionId, body ?? {}, psuIp));
  }

  @Get('connections/:id/consents')
  @ApiOperation({ summary: "The connection's consents, newest first" })
  @ApiOkResponse({ type: [ConsentView] })
  async listForConnection(@CurrentUser() user: AuthenticatedUser, @Param('id', uuid) connectionId: string): Promise<{ consents: ConsentView[] }> {
    return { consents: (await this.consents.list(user.id, connectionId)).map(toConsentView) };
  }

  @Get('consents')
  @ApiOperation({ summary: "All the user's consents, newest first" })
  @ApiOkResponse({ type: [ConsentView] })
  async list(@CurrentUser() user: AuthenticatedUser): Promise<{ consents: ConsentView[] }> {
    return { consents: (await this.consents.list(user.id)).map(toConsentView) };
  }

  @Get('consents/:id')
  @ApiOperation({ summary: 'The consent as last polled; refresh=true asks the bank once now' })
  @ApiOkResponse({ type: ConsentView })
  @ApiProblems('not_found', ...BANK_FAILURES)
  async get(@CurrentUser() user: AuthenticatedUser, @Param('id', uuid) id: string, @Query() query: RefreshQueryDto): Promise<ConsentView> {
    return toConsentView(await this.consents.get(user.id, id, query.refresh === 'true'));
  }

  @Delete('consents/:id')
  @ApiOperation({ summary: 'End the consent at the bank and here (terminatedByTpp)' })
  @ApiOkResponse({ type: ConsentView })
  @ApiProblems('not_found', ...BANK_FAILURES)
  async remove(@CurrentUser() user: AuthenticatedUser, @Param('id', uuid) id: string): Promise<ConsentView> {
    return toConsentView(await this.consents.terminate(user.id, id));
  }
}
