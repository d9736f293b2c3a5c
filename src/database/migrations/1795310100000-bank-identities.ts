import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which bank accounts each connection has shown us, so the same accounts turning up under a second
 * TPP user can be refused (an authorization code injected into another user's login). Accounts are
 * kept as SHA-256 of bank and IBAN: a match, not a second copy of account numbers.
 */
export class BankIdentities1795310100000 implements MigrationInterface {
  name = 'BankIdentities1795310100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE bank_identities (
        connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
        aspsp_id text NOT NULL,
        identity_hash bytea NOT NULL,
        user_id text NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (connection_id, identity_hash)
      )`);
    await q.query(`CREATE INDEX bank_identities_lookup_idx ON bank_identities (aspsp_id, identity_hash)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE bank_identities');
  }
}
