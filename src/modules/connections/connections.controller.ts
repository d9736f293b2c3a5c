import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AspspRegistry, type AspspSummary } from '../../aspsp/aspsp.registry.js';
import { Authenticated, CurrentUser, type AuthenticatedUser } from '../identity/index.js';
import { ConnectionView, CreatedConnectionView, toConnectionView } from './connection.view.js';
import { ConnectionsService } from './connections.service.js';
import { CreateConnectionDto } from './dto/create-connection.dto.js';
import { LoginFlowStore } from './login-flow.store.js';

@ApiTags('connections')
@Authenticated()
@Controller('api/v1')
export class ConnectionsController {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly loginFlow: LoginFlowStore,
    private readonly aspsps: AspspRegistry,
  ) {}

  @Get('aspsps')
  @ApiOperation({ summary: 'Configured banks and the services they offer' })
  listAspsps(): { aspsps: AspspSummary[] } {
    return { aspsps: this.aspsps.list() };
  }

  @Post('connections')
  @ApiOperation({ summary: 'Start connecting a bank: navigate the browser (top level) to authorizationUrl' })
  @ApiCreatedResponse({ type: CreatedConnectionView })
  async create(@CurrentUser() user: AuthenticatedUser, @Body() body: CreateConnectionDto): Promise<CreatedConnectionView> {
    const connection = await this.connections.create(user.id, body);
    const ticket = await this.loginFlow.issueTicket(connection.id);
    return { ...toConnectionView(connection), authorizationUrl: `/auth/${connection.aspspId}/login?ticket=${ticket}` };
  }

  @Get('connections')
  @ApiOkResponse({ type: [ConnectionView] })
  async list(@CurrentUser() user: AuthenticatedUser): Promise<{ connections: ConnectionView[] }> {
    return { connections: (await this.connections.list(user.id)).map(toConnectionView) };
  }

  @Get('connections/:id')
  @ApiOkResponse({ type: ConnectionView })
  async get(@CurrentUser() user: AuthenticatedUser, @Param('id', new ParseUUIDPipe({ version: '4' })) id: string): Promise<ConnectionView> {
    return toConnectionView(await this.connections.get(user.id, id));
  }

  @Delete('connections/:id')
  @HttpCode(204)
  @ApiOperation({ summary: "Forget the bank's tokens; the connection becomes revoked" })
  @ApiNoContentResponse()
  async remove(@CurrentUser() user: AuthenticatedUser, @Param('id', new ParseUUIDPipe({ version: '4' })) id: string): Promise<void> {
    await this.connections.revoke(user.id, id);
  }
}
