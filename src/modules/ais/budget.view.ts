import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BUDGET_COUNTINGS, type BudgetCounting } from '../../config/banks.config.js';
import type { BudgetState } from './budget.js';

/** A consent's unattended budget now: what the bank allows in a rolling 24 h, how much is spent, how it counts. */
export class BudgetView {
  @ApiProperty({ type: 'integer', minimum: 0, example: 4, description: "The consent's frequencyPerDay: unattended uses the bank allows in a rolling 24 h" })
  limit!: number;
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    example: 1,
    description: 'Uses spent in the last 24 h (per_call: requests; per_resource: reads of the most-read resource)',
  })
  used!: number;
  @ApiProperty({ type: 'integer', minimum: 0, example: 3, description: 'Uses left now (0 while the bank has asked us to wait)' }) remaining!: number;
  @ApiProperty({
    enum: BUDGET_COUNTINGS,
    description: 'How the bank counts a use: per_call = every unattended request with the consent (each page too); per_resource = per consent and resource',
  })
  counting!: BudgetCounting;
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'When remaining next grows (the oldest use leaves the 24 h window, or the bank lets us read again)',
  })
  nextUnitAt?: string;
}

export function toBudgetView(state: BudgetState): BudgetView {
  return {
    limit: state.limit,
    used: state.used,
    remaining: state.remaining,
    counting: state.counting,
    ...(state.nextUnitAt ? { nextUnitAt: state.nextUnitAt.toISOString() } : {}),
  };
}
