import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the scheduler needs beyond the poll queue's first shape: consecutive failures (error
 * backoff grows with them and resets on success) and the last status with the time it was first
 * seen (a payment that stays ACSP past a cap stops being polled).
 */
export class Scheduler1795300400000 implements MigrationInterface {
  name = 'Scheduler1795300400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE poll_items
        ADD COLUMN failures integer NOT NULL DEFAULT 0,
        ADD COLUMN last_status text,
        ADD COLUMN status_since timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE poll_items DROP COLUMN status_since, DROP COLUMN last_status, DROP COLUMN failures');
  }
}
