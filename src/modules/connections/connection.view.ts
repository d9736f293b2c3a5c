import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Connection, ConnectionStatus } from './connection.entity.js';
import { expiresSoon } from './expiry-warnings.js';

/** What the frontend sees of a connection: never a token, never a failure's raw bank text. */
export class ConnectionView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'flowe' }) aspspId!: string;
  @ApiProperty({ enum: ['ais', 'pis'], isArray: true }) services!: string[];
  @ApiProperty({ enum: ['pending', 'active', 'reauth_required', 'revoked', 'failed'] }) status!: ConnectionStatus;
  @ApiPropertyOptional({ description: 'Why the connection failed (machine-readable)' }) failureReason?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the PSU must log in at the bank again (Flowe: 90 days after the login)' }) reauthBy?: string;
  @ApiPropertyOptional({ description: 'Your own id for the connection, as last set (absent when none is)' }) externalReference?: string;
  @ApiProperty({
    description: 'The bank login ends within EXPIRY_WARNING_DAYS (or has): offer POST /api/v1/connections/{id}/reauthorize. Also true for reauth_required',
  })
  expiresSoon!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class CreatedConnectionView extends ConnectionView {
  @ApiProperty({ description: 'Top-level browser navigation target that starts the bank login (single use, short-lived)' })
  authorizationUrl!: string;
}

/** `warningMs`: EXPIRY_WARNING_DAYS, which decides `expiresSoon`. */
export function toConnectionView(c: Connection, warningMs: number): ConnectionView {
  return {
    id: c.id,
    aspspId: c.aspspId,
    services: c.services,
    status: c.status,
    ...(c.failureReason ? { failureReason: c.failureReason } : {}),
    ...(c.reauthBy ? { reauthBy: c.reauthBy.toISOString() } : {}),
    ...(c.externalReference !== null ? { externalReference: c.externalReference } : {}),
    expiresSoon: c.status === 'reauth_required' || (c.status === 'active' && expiresSoon(c.reauthBy, warningMs)),
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

export class ConnectionListView {
  @ApiProperty({ type: [ConnectionView], description: "The user's connections" }) connections!: ConnectionView[];
}
