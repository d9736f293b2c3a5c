import { Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/errors/problem.view.js';
import { AspspRegistry, type AspspSummary } from '../../aspsp/aspsp.registry.js';
import { Authenticated, CurrentUser, type AuthenticatedUser } from '../identity/index.js';
import { AspspListView, ConnectionListView, ConnectionView, toConnectionView } from './connection.view.js';
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
  @ApiOperation({ operationId: 'listAspsps', summary: 'Configured banks and the services they offer' })
  @ApiOkResponse({ type: AspspListView })
  listAspsps(): { aspsps: AspspSummary[] } {
    return { aspsps: this.aspsps.list() };
  }

  @Get('connections')
  @ApiOperation({ operationId: 'listConnections', summary: "The user's connections" })
  @ApiOkResponse({ type: ConnectionListView })
  async list(@CurrentUser() user: AuthenticatedUser): Promise<{ connections: ConnectionView[] }> {
    return { connections: (await this.connections.list(user.id)).map(toConnectionView) };
  }

  @Get('connections/:id')
  @ApiOperation({ operationId: 'getConnection', summary: 'A connection: its status and services' })
  @ApiOkResponse({ type: ConnectionView })
  @ApiProblems('not_found')
  async get(@CurrentUser() user: AuthenticatedUser, @Param('id', new ParseUUIDPipe({ version: '4' })) id: string): Promise<ConnectionView> {
    return toConnectionView(await this.connections.get(user.id, id));
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
