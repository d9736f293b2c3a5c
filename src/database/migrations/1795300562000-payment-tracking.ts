import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How long a payment is watched. `accepted_at`: when the bank first accepted it (the settlement
 * window runs from there: ACSC waits for cut-offs, and clearing can reject after ACSC).
 * `tracking_ended_at` and `tracking_end_reason`: when and why the BFF stopped asking the bank
 * (`final_status`, `settlement_window_closed`), so a payment never goes quiet without saying so.
 */
export class PaymentTracking1795300562000 implements MigrationInterface {
  name = 'PaymentTracking1795300562000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE payments
        ADD COLUMN accepted_at timestamptz,
        ADD COLUMN tracking_ended_at timestamptz,
        ADD COLUMN tracking_end_reason text`);
    // Payments already final before this: their tracking ended when their status last changed.
    await q.query(`UPDATE payments SET tracking_ended_at = status_changed_at, tracking_end_reason = 'final_status' WHERE status IN ('RJCT', 'CANC')`);
    await q.query(`UPDATE payments SET accepted_at = status_changed_at WHERE status IN ('ACCP', 'ACSP', 'ACWC', 'ACWP', 'ACSC', 'ACCC')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE payments DROP COLUMN tracking_end_reason, DROP COLUMN tracking_ended_at, DROP COLUMN accepted_at');
  }
}
