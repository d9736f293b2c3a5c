import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fairness towards the banks across replicas: when each bank resource's status was last asked
 * (the banks allow one status request per resource per second), and the per-user API request
 * counts when they are shared through PostgreSQL (RATE_LIMIT_STORE=postgres).
 */
export class BankPace1795300700000 implements MigrationInterface {
  name = 'BankPace1795300700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE bank_status_reads (
        resource_key text PRIMARY KEY,
        read_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE api_rate_limits (
        key text NOT NULL,
        window_start timestamptz NOT NULL,
        hits integer NOT NULL,
        PRIMARY KEY (key, window_start)
      )`);
    await q.query('CREATE INDEX api_rate_limits_window ON api_rate_limits (window_start)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE api_rate_limits');
    await q.query('DROP TABLE bank_status_reads');
  }
}
