import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * A bank account of a user, as read through any of their consents. Keyed by (user, bank, IBAN)
 * rather than the bank's resourceId, which may change with every new consent.
 */
@Entity('ais_accounts')
export class AisAccount {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') userId!: string;
  @Column('text') aspspId!: string;
  /** `iban:<IBAN>:<currency>` when the bank gives an IBAN (normalised), else `ref:<resourceId>`. */
  @Column('text') accountKey!: string;
  @Column('text', { nullable: true }) iban!: string | null;
  @Column('text', { nullable: true }) bban!: string | null;
  @Column('text', { nullable: true }) maskedPan!: string | null;
  @Column('char', { length: 3 }) currency!: string;
  @Column('text', { nullable: true }) name!: string | null;
  @Column('text', { nullable: true }) product!: string | null;
  @Column('text', { nullable: true }) cashAccountType!: string | null;
  @Column('text', { nullable: true }) ownerName!: string | null;
  @Column('text', { nullable: true }) bic!: string | null;
  @Column('timestamptz', { nullable: true }) balancesFetchedAt!: Date | null;
  @Column('timestamptz', { nullable: true }) transactionsFetchedAt!: Date | null;
  /** The earliest date the stored transactions cover (YYYY-MM-DD); older ranges must be read from the bank. */
  @Column('date', { nullable: true }) transactionsFrom!: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
}

/** Which accounts a consent reaches, under which bank resourceId. */
@Entity('ais_consent_accounts')
export class AisConsentAccount {
  @PrimaryColumn('uuid') consentId!: string;
  @PrimaryColumn('uuid') accountId!: string;
  @Column('text') resourceId!: string;
  @Column('int') position!: number;
}
