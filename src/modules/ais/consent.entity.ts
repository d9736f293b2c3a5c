import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { LocalConsentStatus } from './consent-status.js';

/** An AIS consent at a bank, owned by one user through one connection. */
@Entity('ais_consents')
export class AisConsent {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') userId!: string;
  @Column('uuid') connectionId!: string;
  @Column('text') aspspId!: string;
  /**
   * The bank's consentId (sent as `Consent-ID`); not a secret, but never needed by the frontend.
   * Null while the creation is `pending`, and for an `unknown` consent whose answer never came.
   */
  @Column('text', { nullable: true }) bankConsentId!: string | null;
  @Column('text') status!: LocalConsentStatus;
  /** Why the consent ended or is unknown: the bank's code (CONSENT_UNKNOWN, …) or ours (approval_timeout, bank_timeout, interrupted). */
  @Column('text', { nullable: true }) statusReason!: string | null;
  /** YYYY-MM-DD */
  @Column('date') validUntil!: string;
  @Column('int') frequencyPerDay!: number;
  @Column('boolean') recurringIndicator!: boolean;
  /** A bank 429 on an unattended read: no unattended read before this. */
  @Column('timestamptz', { nullable: true }) budgetBlockedUntil!: Date | null;
  @Column('timestamptz', { nullable: true }) accountsFetchedAt!: Date | null;
  @Column('timestamptz') statusChangedAt!: Date;
  /** When the user was told that `validUntil` is near (once). */
  @Column('timestamptz', { nullable: true }) expiryWarnedAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
}
