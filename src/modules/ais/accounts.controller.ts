import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, BANK_FAILURES } from '../../common/errors/problem.view.js';
import { Authenticated, CurrentUser, type AuthenticatedUser } from '../identity/index.js';
import { AccountDataService } from './account-data.service.js';
import { AccountsView, BalancesView, TransactionsView } from './account.view.js';
import { RefreshQueryDto, TransactionsQueryDto } from './dto/read-query.dto.js';
import { PsuIp } from './psu-ip.decorator.js';

const uuid = new ParseUUIDPipe({ version: '4' });

@ApiTags('ais')
@Authenticated()
// 409: the consent is not usable (`consentStatus` says why; `reconsentRequired` asks for a new one), its
// connection is not active, or the first read found the bank accounts behind another user's connection.
@ApiProblems('validation_failed', 'not_found', 'consent_not_valid', 'reconsent_required', 'connection_not_active', 'bank_identity_conflict', ...BANK_FAILURES)
@Controller('api/v1/consents/:consentId/accounts')
export class AccountsController {
  constructor(private readonly data: AccountDataService) {}

  @Get()
  @ApiOperation({ operationId: 'listAccounts', summary: "The consent's accounts: the stored copy, or the bank now with refresh=true (attended)" })
  @ApiOkResponse({ type: AccountsView })
  list(
    @CurrentUser() user: AuthenticatedUser,
    @Param('consentId', uuid) consentId: string,
    @Query() query: RefreshQueryDto,
    @PsuIp() psuIp: string,
  ): Promise<AccountsView> {
    return this.data.listAccounts(user.id, consentId, { refresh: query.refresh === 'true', psuIpAddress: psuIp });
  }

  @Get(':accountId/balances')
  @ApiOperation({ operationId: 'getBalances', summary: "An account's balances: the stored copy, or the bank now with refresh=true (attended)" })
  @ApiOkResponse({ type: BalancesView })
  balances(
    @CurrentUser() user: AuthenticatedUser,
    @Param('consentId', uuid) consentId: string,
    @Param('accountId', uuid) accountId: string,
    @Query() query: RefreshQueryDto,
    @PsuIp() psuIp: string,
  ): Promise<BalancesView> {
    return this.data.balances(user.id, consentId, accountId, { refresh: query.refresh === 'true', psuIpAddress: psuIp });
  }

  @Get(':accountId/transactions')
  @ApiOperation({
    operationId: 'listTransactions',
    summary: "An account's transactions in a date range (default the last 90 days), pending first, then newest first",
  })
  @ApiOkResponse({ type: TransactionsView })
  transactions(
    @CurrentUser() user: AuthenticatedUser,
    @Param('consentId', uuid) consentId: string,
    @Param('accountId', uuid) accountId: string,
    @Query() query: TransactionsQueryDto,
    @PsuIp() psuIp: string,
  ): Promise<TransactionsView> {
    const { refresh, ...range } = query;
    return this.data.transactions(user.id, consentId, accountId, { ...range, refresh: refresh === 'true', psuIpAddress: psuIp });
  }
}
