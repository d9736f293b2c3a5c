import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The integrator's own id for a connection (a customer or ledger account number), so a webhook
 * receiver can route an event without keeping a map of our connection ids. Nullable: most
 * connections have none. Not unique: two connections of one customer may share it.
 */
export class ConnectionExternalReference1795330000000 implements MigrationInterface {
  name = 'ConnectionExternalReference1795330000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE connections ADD COLUMN external_reference text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE connections DROP COLUMN external_reference');
  }
}
