import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When the user was told that a bank login (`reauth_by`) or a consent (`valid_until`) is about to
 * end, so housekeeping on any replica announces each end once. A new bank login clears the
 * connection's mark: its next end is announced again.
 */
export class ExpiryWarnings1795320500000 implements MigrationInterface {
  name = 'ExpiryWarnings1795320500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE connections ADD COLUMN expiry_warned_at timestamptz');
    await q.query('ALTER TABLE ais_consents ADD COLUMN expiry_warned_at timestamptz');
    // Housekeeping looks only at what may still need a warning.
    await q.query(
      "CREATE INDEX connections_expiry_idx ON connections (reauth_by) WHERE status = 'active' AND expiry_warned_at IS NULL AND reauth_by IS NOT NULL",
    );
    await q.query("CREATE INDEX ais_consents_expiry_idx ON ais_consents (valid_until) WHERE status = 'valid' AND expiry_warned_at IS NULL");
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX ais_consents_expiry_idx');
    await q.query('DROP INDEX connections_expiry_idx');
    await q.query('ALTER TABLE ais_consents DROP COLUMN expiry_warned_at');
    await q.query('ALTER TABLE connections DROP COLUMN expiry_warned_at');
  }
}
