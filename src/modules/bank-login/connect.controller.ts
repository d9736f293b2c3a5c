import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiProblems } from '../../common/errors/problem.view.js';
import { CreatedConnectionView, toConnectionView } from '../connections/connection.view.js';
import { CreateConnectionDto } from '../connections/dto/create-connection.dto.js';
import { Authenticated, CurrentUser, type AuthenticatedUser } from '../identity/index.js';
import { BankLoginService } from './bank-login.service.js';

/** `POST /api/v1/connections`: the first step of a bank login (the other connection routes are in ConnectionsController). */
@ApiTags('connections')
@Authenticated()
@Controller('api/v1')
export class ConnectController {
  constructor(private readonly login: BankLoginService) {}

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
    headers: { 'Set-Cookie': { description: 'The HttpOnly, SameSite=Strict start cookie that lets this browser go straight to the bank', schema: { type: 'string' }, required: true } },
  })
  @ApiProblems('validation_failed', 'not_found')
  async create(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: CreateConnectionDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CreatedConnectionView> {
    const { connection, authorizationUrl } = await this.login.begin(user, body, req, res);
    return { ...toConnectionView(connection), authorizationUrl };
  }
}
