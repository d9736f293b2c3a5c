import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsCalendarDate } from './calendar-date.js';

/**
 * Every field is optional: the bank's defaults (a recurring consent for as long as the bank allows,
 * as many unattended reads a day as it allows) work. The bank's own limits are checked by its
 * adapter, with a 400 naming the rule.
 */
export class CreateConsentDto {
  @ApiPropertyOptional({
    format: 'date',
    example: '2026-03-31',
    description:
      "Last day (UTC) of the consent; default the longest the bank allows: today + 90 days (Flowe's rule; for ConnectPay, whose document names none, our assumed limit)",
  })
  @IsOptional()
  @IsCalendarDate()
  readonly validUntil?: string;

  @ApiPropertyOptional({
    type: 'integer',
    example: 4,
    minimum: 1,
    maximum: 100,
    description: 'Unattended uses per 24 h; default the bank maximum (4: Flowe rule, and Berlin Group bound for ConnectPay)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  readonly frequencyPerDay?: number;

  @ApiPropertyOptional({ default: true, description: 'Flowe accepts only true (one-shot there = frequencyPerDay 1, validUntil today)' })
  @IsOptional()
  @IsBoolean()
  readonly recurringIndicator?: boolean;
}
