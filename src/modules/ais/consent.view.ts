import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AisConsent } from './consent.entity.js';
import { LOCAL_CONSENT_STATUSES, reconsentRequired, type LocalConsentStatus } from './consent-status.js';

/** What the frontend sees of a consent: its terms and status, never the bank's token or ids it does not need. */
export class ConsentView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty({ example: 'flowe' }) aspspId!: string;
  @ApiProperty({ enum: LOCAL_CONSENT_STATUSES, description: 'As last polled; `invalid` = the bank refused the consent without a status of its own (CONSENT_INVALID, CONSENT_UNKNOWN)' })
  status!: LocalConsentStatus;
  @ApiProperty({ description: 'The bank or the PSU ended the consent: ask the user for a new one' }) reconsentRequired!: boolean;
  @ApiPropertyOptional({ description: "Machine-readable reason of the last status, e.g. the bank's CONSENT_EXPIRED or approval_timeout" }) statusReason?: string;
  @ApiProperty({ example: '2026-12-31', description: 'Last day (UTC) the consent can be used' }) validUntil!: string;
  @ApiProperty({ example: 4, description: 'Unattended reads per 24 h the bank allows' }) frequencyPerDay!: number;
  @ApiProperty() recurringIndicator!: boolean;
  @ApiProperty() statusChangedAt!: string;
  @ApiProperty() createdAt!: string;
}

export function toConsentView(c: AisConsent): ConsentView {
  return {
    id: c.id,
    connectionId: c.connectionId,
    aspspId: c.aspspId,
    status: c.status,
    reconsentRequired: reconsentRequired(c.status),
    ...(c.statusReason ? { statusReason: c.statusReason } : {}),
    validUntil: c.validUntil,
    frequencyPerDay: c.frequencyPerDay,
    recurringIndicator: c.recurringIndicator,
    statusChangedAt: c.statusChangedAt.toISOString(),
    createdAt: c.createdAt.toISOString(),
  };
}
