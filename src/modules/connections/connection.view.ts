import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Connection, ConnectionStatus } from './connection.entity.js';

/** What the frontend sees of a connection: never a token, never a failure's raw bank text. */
export class ConnectionView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'flowe' }) aspspId!: string;
  @ApiProperty({ enum: ['ais', 'pis'], isArray: true }) services!: string[];
  @ApiProperty({ enum: ['pending', 'active', 'reauth_required', 'revoked', 'failed'] }) status!: ConnectionStatus;
  @ApiPropertyOptional({ description: 'Why the connection failed (machine-readable)' }) failureReason?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the PSU must log in at the bank again (Flowe: 90 days after the first login)' }) reauthBy?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class CreatedConnectionView extends ConnectionView {
  @ApiProperty({ description: 'Top-level browser navigation target that starts the bank login (single use, short-lived)' })
  authorizationUrl!: string;
}

export function toConnectionView(c: Connection): ConnectionView {
  return {
    id: c.id,
    aspspId: c.aspspId,
    services: c.services,
    status: c.status,
    ...(c.failureReason ? { failureReason: c.failureReason } : {}),
    ...(c.reauthBy ? { reauthBy: c.reauthBy.toISOString() } : {}),
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

export class ConnectionListView {
  @ApiProperty({ type: [ConnectionView], description: "The user's connections" }) connections!: ConnectionView[];
}

/** A configured bank, as GET /api/v1/aspsps lists it. */
export class AspspView {
  @ApiProperty({ example: 'flowe', pattern: '^[a-z][a-z0-9-]*$', description: 'The aspspId to connect with' }) id!: string;
  @ApiProperty({ example: 'Flowe' }) name!: string;
  @ApiProperty({ enum: ['ais', 'pis'], isArray: true, description: 'The services a connection to this bank can have' }) services!: string[];
}

export class AspspListView {
  @ApiProperty({ type: [AspspView] }) aspsps!: AspspView[];
}
