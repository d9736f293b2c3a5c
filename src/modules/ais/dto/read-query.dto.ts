import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { IsIntegerBetween, ToQueryInteger } from '../../../common/validation/integer-between.js';
import { IsCalendarDate } from './calendar-date.js';

export class RefreshQueryDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: "true: read the bank now (attended: the user's IP is passed on, the daily budget is not spent); otherwise the stored copy",
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  readonly refresh?: 'true' | 'false';
}

export const MAX_TRANSACTIONS_PAGE = 1000;

export class TransactionsQueryDto extends RefreshQueryDto {
  @ApiPropertyOptional({ format: 'date', example: '2025-01-01', description: 'Default: dateTo − 90 days' })
  @IsOptional()
  @IsCalendarDate()
  readonly dateFrom?: string;

  @ApiPropertyOptional({ format: 'date', example: '2025-03-31', description: 'Default: today (UTC)' })
  @IsOptional()
  @IsCalendarDate()
  readonly dateTo?: string;

  @ApiPropertyOptional({ enum: ['booked', 'pending', 'both'], default: 'both' })
  @IsOptional()
  @IsIn(['booked', 'pending', 'both'])
  readonly bookingStatus?: 'booked' | 'pending' | 'both';

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_TRANSACTIONS_PAGE, default: 500 })
  @IsOptional()
  @ToQueryInteger()
  @IsIntegerBetween(1, MAX_TRANSACTIONS_PAGE)
  readonly limit?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 })
  @IsOptional()
  @ToQueryInteger()
  @IsIntegerBetween(0, 1_000_000)
  readonly offset?: number;
}
