import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * AIS: consents, what was read through them, and the ledger of unattended reads.
 * - Accounts belong to a user and a bank and are keyed by IBAN (`account_key`), not by the bank's
 *   resourceId, so a new consent (with new resourceIds) finds the same account and its history;
 *   `ais_consent_accounts` maps each consent's resourceIds to those accounts.
 * - Transactions are unique per (account, key): the bank's transactionId, else its entryReference,
 *   else a stable fingerprint. A re-read upserts, so nothing is duplicated and pending → booked
 *   updates the same row.
 * - `ais_unattended_reads` counts the consent's `frequencyPerDay` budget in a rolling 24 h window;
 *   claims are made under the consent's row lock, so replicas can never overspend it.
 */
export class Ais1795300200000 implements MigrationInterface {
  name = 'Ais1795300200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ais_consents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id text NOT NULL,
        connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
        aspsp_id text NOT NULL,
        bank_consent_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('received', 'valid', 'rejected', 'revokedByPsu', 'expired', 'terminatedByTpp', 'invalid')),
        status_reason text,
        valid_until date NOT NULL,
        frequency_per_day integer NOT NULL CHECK (frequency_per_day BETWEEN 1 AND 100),
        recurring_indicator boolean NOT NULL,
        budget_blocked_until timestamptz,
        accounts_fetched_at timestamptz,
        status_changed_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (aspsp_id, bank_consent_id)
      )`);
    await q.query('CREATE INDEX ais_consents_user_idx ON ais_consents (user_id, created_at DESC)');
    await q.query('CREATE INDEX ais_consents_connection_idx ON ais_consents (connection_id)');
    await q.query(`
      CREATE TABLE ais_accounts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id text NOT NULL,
        aspsp_id text NOT NULL,
        account_key text NOT NULL,
        iban text,
        bban text,
        masked_pan text,
        currency char(3) NOT NULL,
        name text,
        product text,
        cash_account_type text,
        owner_name text,
        bic text,
        balances_fetched_at timestamptz,
        transactions_fetched_at timestamptz,
        transactions_from date,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_id, aspsp_id, account_key)
      )`);
    await q.query(`
      CREATE TABLE ais_consent_accounts (
        consent_id uuid NOT NULL REFERENCES ais_consents (id) ON DELETE CASCADE,
        account_id uuid NOT NULL REFERENCES ais_accounts (id) ON DELETE CASCADE,
        resource_id text NOT NULL,
        position integer NOT NULL,
        PRIMARY KEY (consent_id, account_id),
        UNIQUE (consent_id, resource_id)
      )`);
    await q.query(`
      CREATE TABLE ais_balances (
        account_id uuid NOT NULL REFERENCES ais_accounts (id) ON DELETE CASCADE,
        position integer NOT NULL,
        balance_type text NOT NULL,
        amount text NOT NULL CHECK (amount ~ '^-?[0-9]{1,14}(\\.[0-9]{1,3})?$'),
        currency char(3) NOT NULL,
        reference_date date,
        last_change_date_time timestamptz,
        PRIMARY KEY (account_id, position)
      )`);
    await q.query(`
      CREATE TABLE ais_transactions (
        id bigserial PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES ais_accounts (id) ON DELETE CASCADE,
        tx_key text NOT NULL,
        transaction_id text,
        entry_reference text,
        booking_status text NOT NULL CHECK (booking_status IN ('booked', 'pending')),
        booking_date date,
        value_date date,
        amount text NOT NULL CHECK (amount ~ '^-?[0-9]{1,14}(\\.[0-9]{1,3})?$'),
        currency char(3) NOT NULL,
        creditor_name text,
        creditor_iban text,
        debtor_name text,
        debtor_iban text,
        remittance_information text,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (account_id, tx_key)
      )`);
    await q.query('CREATE INDEX ais_transactions_date_idx ON ais_transactions (account_id, (COALESCE(booking_date, value_date)) DESC, id DESC)');
    await q.query(`
      CREATE TABLE ais_unattended_reads (
        id bigserial PRIMARY KEY,
        consent_id uuid NOT NULL REFERENCES ais_consents (id) ON DELETE CASCADE,
        read_at timestamptz NOT NULL DEFAULT now(),
        outcome text NOT NULL DEFAULT 'claimed' CHECK (outcome IN ('claimed', 'ok', 'rate_limited', 'failed'))
      )`);
    await q.query('CREATE INDEX ais_unattended_reads_window_idx ON ais_unattended_reads (consent_id, read_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE ais_unattended_reads');
    await q.query('DROP TABLE ais_transactions');
    await q.query('DROP TABLE ais_balances');
    await q.query('DROP TABLE ais_consent_accounts');
    await q.query('DROP TABLE ais_accounts');
    await q.query('DROP TABLE ais_consents');
  }
}
