import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { ApiProblems } from '../../common/errors/problem.view.js';
import { AspspListView } from './aspsp.view.js';
import { AspspQueryDto } from './dto/aspsp-query.dto.js';
import { UpdateConnectionDto } from './dto/update-connection.dto.js';
import { Authenticated, CurrentUser, type AuthenticatedUser } from '../identity/index.js';
import { ConnectionListView, ConnectionView } from './connection.view.js';
import { ConnectionsService } from './connections.service.js';

/** The user's connections. `POST /api/v1/connections` starts a bank login: see ConnectController (bank-login). */
@ApiTags('connections')
@Authenticated()
@Controller('api/v1')
export class ConnectionsController {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly aspsps: AspspRegistry,
  ) {}

  @Get('aspsps')
  @ApiOperation({
    operationId: 'listAspsps',
    summary: 'Configured banks: who they are, the services they offer, their consent rules and their health now',
    description: "`country` and `q` filter the list. `health` is the state of the bank's circuits on the replica that answers.",
  })
  @ApiOkResponse({ type: AspspListView })
  @ApiProblems('validation_failed')
  listAspsps(@Query() query: AspspQueryDto): AspspListView {
    return { aspsps: this.aspsps.list({ country: query.country, q: query.q }) };
  }

  @Get('connections')
  @ApiOperation({ operationId: 'listConnections', summary: "The user's connections" })
  @ApiOkResponse({ type: ConnectionListView })
  async list(@CurrentUser() user: AuthenticatedUser): Promise<{ connections: ConnectionView[] }> {
    return { connections: (await this.connections.list(user.id)).map((c) => this.connections.view(c)) };
  }

  @Get('connections/:id')
  @ApiOperation({ operationId: 'getConnection', summary: 'A connection: its status and services' })
  @ApiOkResponse({ type: ConnectionView })
  @ApiProblems('not_found')
  async get(@CurrentUser() user: AuthenticatedUser, @Param('id', new ParseUUIDPipe({ version: '4' })) id: string): Promise<ConnectionView> {
    return this.connections.view(await this.connections.get(user.id, id));
  }

  @Patch('connections/:id')
  @ApiOperation({
    operationId: 'updateConnection',
    summary: "Set or clear the connection's externalReference",
    description:
      'In any status. Webhook events are given the reference the connection has when they are delivered, so events still waiting for ' +
      'delivery carry the new value.',
  })
  @ApiOkResponse({ type: ConnectionView })
  @ApiProblems('validation_failed', 'not_found')
  async update(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
    @Body() body: UpdateConnectionDto,
  ): Promise<ConnectionView> {
    return this.connections.view(await this.connections.setExternalReference(user.id, id, body.externalReference));
  }

  @Delete('connections/:id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeConnection', summary: "Forget the bank's tokens; the connection becomes revoked" })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems('not_found')
  async remove(@CurrentUser() user: AuthenticatedUser, @Param('id', new ParseUUIDPipe({ version: '4' })) id: string): Promise<void> {
    await this.connections.revoke(user.id, id);
  }
}
