import { Body, Controller, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
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
  @ApiOperation({ summary: 'Start connecting a bank: navigate the browser (top level) to authorizationUrl' })
  @ApiCreatedResponse({ type: CreatedConnectionView })
  @ApiProblems('validation_failed', 'not_found')
  async create(@CurrentUser() user: AuthenticatedUser, @Body() body: CreateConnectionDto): Promise<CreatedConnectionView> {
    const { connection, authorizationUrl } = await this.login.begin(user.id, body);
    return { ...toConnectionView(connection), authorizationUrl };
  }
}
