import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsCalendarDate } from './calendar-date.js';

const ToPageInt = () => Transform(({ value }) => (typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value));

export class RefreshQueryDto {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: "true: read the bank now (attended: the user's IP is passed on, the daily budget is not spent); otherwise the stored copy" })
  @IsOptional()
  @IsIn(['true', 'false'])
  readonly refresh?: 'true' | 'false';
}

export const MAX_TRANSACTIONS_PAGE = 1000;

export class TransactionsQueryDto extends RefreshQueryDto {
  @ApiPropertyOptional({ example: '2025-01-01', description: 'Default: dateTo − 90 days' })
  @IsOptional()
  @IsCalendarDate()
  readonly dateFrom?: string;

  @ApiPropertyOptional({ example: '2025-03-31', description: 'Default: today (UTC)' })
  @IsOptional()
  @IsCalendarDate()
  readonly dateTo?: string;

  @ApiPropertyOptional({ enum: ['booked', 'pending', 'both'], default: 'both' })
  @IsOptional()
  @IsIn(['booked', 'pending', 'both'])
  readonly bookingStatus?: 'booked' | 'pending' | 'both';

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_TRANSACTIONS_PAGE, default: 500 })
  @IsOptional()
  @ToPageInt()
  @IsInt()
  @Min(1)
  @Max(MAX_TRANSACTIONS_PAGE)
  readonly limit?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @ToPageInt()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  readonly offset?: number;
}
