import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The key the sandbox-mode demo login signs user tokens with, shared by every replica and kept
 * across restarts. Production mode never writes it (it has no demo login).
 */
export class SandboxSigningKey1795310200000 implements MigrationInterface {
  name = 'SandboxSigningKey1795310200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE identity_signing_keys (
        name text PRIMARY KEY,
        private_jwk jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE identity_signing_keys');
  }
}
