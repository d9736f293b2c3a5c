import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reconciling payments whose initiation outcome is unknown (docs/design.md, "Unknown payments").
 * `ais_transactions.end_to_end_id`: the end-to-end id a bank shows on the statement, how such a
 * payment is found. On `payments`: when reconciliation started, when it last looked, how it
 * settled the payment (`bank_status`, `statement`), with what outcome, and when.
 */
export class PaymentReconciliation1795300563000 implements MigrationInterface {
  name = 'PaymentReconciliation1795300563000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE ais_transactions ADD COLUMN end_to_end_id text');
    await q.query('CREATE INDEX ais_transactions_end_to_end_idx ON ais_transactions (account_id, end_to_end_id) WHERE end_to_end_id IS NOT NULL');
    await q.query(`
      ALTER TABLE payments
        ADD COLUMN reconciliation_started_at timestamptz,
        ADD COLUMN reconciliation_checked_at timestamptz,
        ADD COLUMN reconciliation_method text,
        ADD COLUMN reconciliation_outcome text,
        ADD COLUMN reconciled_at timestamptz`);
    // Payments already unknown are reconciled from now on.
    await q.query(`UPDATE payments SET reconciliation_started_at = now(), reconciliation_outcome = 'searching' WHERE status = 'unknown'`);
    await q.query(`
      INSERT INTO poll_items (kind, resource_id, aspsp_id, next_poll_at)
      SELECT 'payment', id, aspsp_id, now() FROM payments WHERE status = 'unknown'
      ON CONFLICT (kind, resource_id) DO NOTHING`);
    await q.query(`CREATE INDEX payments_unreconciled_idx ON payments (status) WHERE status = 'unknown'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX payments_unreconciled_idx');
    await q.query(
      'ALTER TABLE payments DROP COLUMN reconciled_at, DROP COLUMN reconciliation_outcome, DROP COLUMN reconciliation_method, DROP COLUMN reconciliation_checked_at, DROP COLUMN reconciliation_started_at',
    );
    await q.query('DROP INDEX ais_transactions_end_to_end_idx');
    await q.query('ALTER TABLE ais_transactions DROP COLUMN end_to_end_id');
  }
}
