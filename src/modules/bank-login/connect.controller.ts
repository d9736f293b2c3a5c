import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblems } from '../../common/errors/problem.view.js';
import { CreatedConnectionView } from '../connections/connection.view.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { CreateConnectionDto } from '../connections/dto/create-connection.dto.js';
import { ReauthorizeConnectionDto } from '../connections/dto/reauthorize-connection.dto.js';
import { Authenticated, CurrentUser, type AuthenticatedUser } from '../identity/index.js';
import { BankLoginService } from './bank-login.service.js';

/**
 * `POST /api/v1/connections` and `POST /api/v1/connections/{id}/reauthorize`: the first step of a
 * bank login (the other connection routes are in ConnectionsController).
 */
@ApiTags('connections')
@Authenticated()
@Controller('api/v1')
export class ConnectController {
  constructor(
    private readonly login: BankLoginService,
    private readonly connections: ConnectionsService,
  ) {}

  @Post('connections')
  @ApiOperation({
    operationId: 'createConnection',
    summary: 'Start connecting a bank: navigate the browser (top level) to authorizationUrl',
    description:
      'Also sets an HttpOnly, SameSite=Strict start cookie: a web app that calls this with credentials (same site) and then navigates to ' +
      'authorizationUrl goes straight to the bank. Any other browser (a native app opening the system browser, or someone the link was ' +
      'sent to) is first shown a page naming the user the bank will be attached to, and continues only when the user confirms there.',
  })
  @ApiCreatedResponse({
    type: CreatedConnectionView,
    headers: {
      'Set-Cookie': {
        description: 'The HttpOnly, SameSite=Strict start cookie that lets this browser go straight to the bank',
        schema: { type: 'string' },
        required: true,
      },
    },
  })
  @ApiProblems('validation_failed', 'not_found')
  async create(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: CreateConnectionDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<CreatedConnectionView> {
    const { connection, authorizationUrl } = await this.login.begin(user, body, req, res);
    return { ...this.connections.view(connection), authorizationUrl };
  }

  @Post('connections/:id/reauthorize')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'reauthorizeConnection',
    summary: 'Log in at the bank again, keeping the connection: navigate the browser (top level) to authorizationUrl',
    description:
      'For a connection in reauth_required, or active with expiresSoon (its reauthBy within EXPIRY_WARNING_DAYS). The login works like ' +
      'POST /api/v1/connections (start cookie, confirmation page in another browser, the same callback and result query). On success ' +
      'the same connection becomes active with new tokens and a new reauthBy; its consents and stored data stay. A denial or an ' +
      'error at the bank leaves it as it was. Any other status: 409 connection_not_reauthorizable.',
  })
  @ApiOkResponse({
    type: CreatedConnectionView,
    headers: {
      'Set-Cookie': {
        description: 'The HttpOnly, SameSite=Strict start cookie that lets this browser go straight to the bank',
        schema: { type: 'string' },
        required: true,
      },
    },
  })
  @ApiProblems('validation_failed', 'not_found', 'connection_not_reauthorizable')
  async reauthorize(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
    @Body() body: ReauthorizeConnectionDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<CreatedConnectionView> {
    const { connection, authorizationUrl } = await this.login.beginReauthorization(user, id, body, req, res);
    return { ...this.connections.view(connection), authorizationUrl };
  }
}
