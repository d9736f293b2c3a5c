import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The start of a bank login is bound to the TPP user who created the connection (login CSRF):
 * a ticket remembers the hash of the browser binding set when it was issued, and the display label
 * of its user for the confirmation page; a confirmation is the one-time token of that page, bound
 * to the browser it was shown in. Only SHA-256 hashes of the secrets are stored.
 */
export class LoginStartBinding1795310000000 implements MigrationInterface {
  name = 'LoginStartBinding1795310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE login_tickets ADD COLUMN browser_hash bytea, ADD COLUMN user_label text NOT NULL DEFAULT ''`);
    await q.query(`
      CREATE TABLE login_confirmations (
        token_hash bytea PRIMARY KEY,
        ticket_hash bytea NOT NULL REFERENCES login_tickets (ticket_hash) ON DELETE CASCADE,
        binding_hash bytea NOT NULL,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX login_confirmations_ticket_idx ON login_confirmations (ticket_hash)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE login_confirmations');
    await q.query('ALTER TABLE login_tickets DROP COLUMN user_label, DROP COLUMN browser_hash');
  }
}
