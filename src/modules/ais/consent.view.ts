import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { utcDate } from '../../aspsp/berlin-group/dates.js';
import { BudgetView } from './budget.view.js';
import type { RefreshInfo } from './consent-budgets.service.js';
import type { AisConsent } from './consent.entity.js';
import { LOCAL_CONSENT_STATUSES, reconsentRequired, type LocalConsentStatus } from './consent-status.js';

const STATUS_HELP = [
  '`pending`: being requested from the bank (seconds)',
  '`unknown`: the bank did not answer usably (timeout, 500, 502, 504); with its id we keep asking it, without one the request cannot be confirmed (delete it and ask again)',
  '`received`: waiting for the PSU in the bank app',
  '`valid`: usable',
  '`rejected`, `revokedByPsu`, `expired`, `terminatedByTpp`: ended',
  '`invalid`: the bank refused the consent without a status of its own (CONSENT_INVALID, CONSENT_UNKNOWN)',
].join('; ');

/** What the frontend sees of a consent: its terms, status and budget, never the bank's token or ids it does not need. */
export class ConsentView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty({ example: 'flowe' }) aspspId!: string;
  @ApiProperty({ enum: LOCAL_CONSENT_STATUSES, description: `As last polled. ${STATUS_HELP}` }) status!: LocalConsentStatus;
  @ApiProperty({ description: 'The bank or the PSU ended the consent: ask the user for a new one' }) reconsentRequired!: boolean;
  @ApiPropertyOptional({ description: "Machine-readable reason of the last status, e.g. the bank's CONSENT_EXPIRED, approval_timeout, bank_timeout" })
  statusReason?: string;
  @ApiProperty({ format: 'date', example: '2026-12-31', description: 'Last day (UTC) the consent can be used' }) validUntil!: string;
  @ApiProperty({ description: 'A valid consent whose validUntil is within EXPIRY_WARNING_DAYS: offer to renew it (a new consent)' }) expiresSoon!: boolean;
  @ApiProperty({ type: 'integer', example: 4, description: 'Unattended uses per 24 h the bank allows (see budget.counting for what a use is)' })
  frequencyPerDay!: number;
  @ApiProperty() recurringIndicator!: boolean;
  @ApiProperty({ type: BudgetView, description: 'The unattended budget now, as the bank counts it' }) budget!: BudgetView;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the stored accounts, balances and transactions will next be refreshed in the background' })
  nextRefreshAt?: string;
  @ApiProperty({ format: 'date-time' }) statusChangedAt!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

/** `warningMs`: EXPIRY_WARNING_DAYS, which decides `expiresSoon`. */
export function toConsentView(c: AisConsent, refresh: RefreshInfo, warningMs: number): ConsentView {
  return {
    id: c.id,
    connectionId: c.connectionId,
    aspspId: c.aspspId,
    status: c.status,
    reconsentRequired: reconsentRequired(c.status),
    ...(c.statusReason ? { statusReason: c.statusReason } : {}),
    validUntil: c.validUntil,
    expiresSoon: consentExpiresSoon(c, warningMs),
    frequencyPerDay: c.frequencyPerDay,
    recurringIndicator: c.recurringIndicator,
    budget: refresh.budget,
    ...(refresh.nextRefreshAt ? { nextRefreshAt: refresh.nextRefreshAt } : {}),
    statusChangedAt: c.statusChangedAt.toISOString(),
    createdAt: c.createdAt.toISOString(),
  };
}

/** A valid consent whose last day (`validUntil`, UTC) falls within the warning window from `now`. */
export function consentExpiresSoon(c: Pick<AisConsent, 'status' | 'validUntil'>, warningMs: number, now = Date.now()): boolean {
  return c.status === 'valid' && c.validUntil <= utcDate(now + warningMs);
}

export class ConsentListView {
  @ApiProperty({ type: [ConsentView], description: 'Newest first' }) consents!: ConsentView[];
}
