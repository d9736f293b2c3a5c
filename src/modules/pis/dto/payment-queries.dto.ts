import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { IsIntegerBetween, ToQueryInteger } from '../../../common/validation/integer-between.js';

export class ListPaymentsQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @ToQueryInteger()
  @IsIntegerBetween(1, 100)
  readonly limit?: number;

  @ApiPropertyOptional({ maxLength: 40, pattern: '^[A-Za-z0-9_-]+$', description: '`nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: '$property must be a nextCursor value' })
  readonly cursor?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only the payments of this connection' })
  @IsOptional()
  @IsUUID('4')
  readonly connectionId?: string;
}

export class GetPaymentQueryDto {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'true: ask the bank for the status now (otherwise the status as last polled)' })
  @IsOptional()
  @IsIn(['true', 'false'])
  readonly refresh?: 'true' | 'false';
}

/** Cursors are opaque to the frontend: the insertion sequence of the last row, base64url. */
export function encodeCursor(seq: string): string {
  return Buffer.from(`p:${seq}`).toString('base64url');
}

export function decodeCursor(cursor: string): string | undefined {
  const match = Buffer.from(cursor, 'base64url')
    .toString('utf8')
    .match(/^p:([0-9]{1,18})$/);
  return match?.[1];
}
