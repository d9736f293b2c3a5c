import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bank connections and the login flow. Tokens are only ever stored as vault ciphertext; tickets,
 * states and nonces only as SHA-256 hashes, so a database dump holds nothing usable.
 */
export class Connections1795300000000 implements MigrationInterface {
  name = 'Connections1795300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE connections (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id text NOT NULL,
        aspsp_id text NOT NULL,
        services text[] NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'active', 'reauth_required', 'revoked', 'failed')),
        return_url text NOT NULL,
        failure_reason text,
        access_token_enc text,
        refresh_token_enc text,
        access_token_expires_at timestamptz,
        granted_scope text,
        first_login_at timestamptz,
        reauth_by timestamptz,
        tokens_refreshed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX connections_user_idx ON connections (user_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE login_tickets (
        ticket_hash bytea PRIMARY KEY,
        connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE oauth_states (
        state_hash bytea PRIMARY KEY,
        connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
        aspsp_id text NOT NULL,
        binding_hash bytea NOT NULL,
        nonce_hash bytea,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX oauth_states_expiry_idx ON oauth_states (expires_at)`);
    await q.query(`CREATE INDEX login_tickets_expiry_idx ON login_tickets (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE oauth_states');
    await q.query('DROP TABLE login_tickets');
    await q.query('DROP TABLE connections');
  }
}
