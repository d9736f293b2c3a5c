import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Service } from '../../config/banks.config.js';

export const CONNECTION_STATUSES = ['pending', 'active', 'reauth_required', 'revoked', 'failed'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** A user's link to one bank. Token columns hold token-vault ciphertext, never plaintext. */
@Entity('connections')
export class Connection {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') userId!: string;
  @Column('text') aspspId!: string;
  @Column('text', { array: true }) services!: Service[];
  @Column('text') status!: ConnectionStatus;
  @Column('text') returnUrl!: string;
  @Column('text', { nullable: true }) failureReason!: string | null;
  @Column('text', { nullable: true }) accessTokenEnc!: string | null;
  @Column('text', { nullable: true }) refreshTokenEnc!: string | null;
  @Column('timestamptz', { nullable: true }) accessTokenExpiresAt!: Date | null;
  @Column('text', { nullable: true }) grantedScope!: string | null;
  @Column('timestamptz', { nullable: true }) firstLoginAt!: Date | null;
  @Column('timestamptz', { nullable: true }) reauthBy!: Date | null;
  @Column('timestamptz', { nullable: true }) tokensRefreshedAt!: Date | null;
  /** When the user was told that `reauthBy` is near (once per bank login). */
  @Column('timestamptz', { nullable: true }) expiryWarnedAt!: Date | null;
  /** The integrator's own id for the connection, echoed on the resource and in webhook payloads. */
  @Column('text', { nullable: true }) externalReference!: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
}
