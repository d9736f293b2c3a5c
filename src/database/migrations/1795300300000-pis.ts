import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payments (PIS). One row per (user, Idempotency-Key): the unique constraint is what makes a
 * retried request find the first one instead of creating a second payment. The row is written,
 * with the hash of the canonical request, before the bank is called; the first answer given to
 * the frontend is stored with it so a retry gets exactly the same status and body.
 * `payment_status_changes` keeps every status the payment went through, with its time.
 */
export class Pis1795300300000 implements MigrationInterface {
  name = 'Pis1795300300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE payments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigserial NOT NULL UNIQUE,
        user_id text NOT NULL,
        connection_id uuid NOT NULL REFERENCES connections (id),
        aspsp_id text NOT NULL,
        idempotency_key text NOT NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
        request_hash text NOT NULL,
        product text NOT NULL DEFAULT 'sepa-credit-transfers',
        debtor_iban text NOT NULL,
        creditor_iban text NOT NULL,
        creditor_name text NOT NULL CHECK (char_length(creditor_name) BETWEEN 1 AND 70),
        amount text NOT NULL CHECK (amount ~ '^(0|[1-9][0-9]{0,13})(\\.[0-9]{1,3})?$'),
        currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        remittance_information_unstructured text CHECK (char_length(remittance_information_unstructured) <= 140),
        end_to_end_identification text NOT NULL CHECK (char_length(end_to_end_identification) BETWEEN 1 AND 35),
        charge_bearer text,
        status text NOT NULL,
        sca_status text,
        bank_payment_id text,
        authorisation_id text,
        failure_code text,
        response_status integer,
        response_body jsonb,
        status_changed_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT payments_user_idempotency_key UNIQUE (user_id, idempotency_key)
      )`);
    await q.query('CREATE UNIQUE INDEX payments_bank_payment_idx ON payments (aspsp_id, bank_payment_id) WHERE bank_payment_id IS NOT NULL');
    await q.query('CREATE INDEX payments_user_seq_idx ON payments (user_id, seq DESC)');
    await q.query(`
      CREATE TABLE payment_status_changes (
        id bigserial PRIMARY KEY,
        payment_id uuid NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
        status text NOT NULL,
        sca_status text,
        source text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX payment_status_changes_payment_idx ON payment_status_changes (payment_id, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE payment_status_changes');
    await q.query('DROP TABLE payments');
  }
}
