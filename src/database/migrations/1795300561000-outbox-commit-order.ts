import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outbox ids that readers can trust across concurrent commits (docs/design.md, "Events").
 *
 * A sequence hands out ids at insert time, but transactions commit in any order: a reader that
 * streamed ids 264-266 and moved its cursor past them would never see 263 committing later. Every
 * insert now numbers its row in a trigger, holding two transaction-scoped advisory locks until
 * its transaction ends: first (OUTBOX_WRITING, 0), taken before the id is drawn, then
 * (OUTBOX_ID, low 32 bits of the id). A reader looking at pg_locks therefore knows every id still
 * in flight in this database, and every writer about to draw one, and delivers only ids below the
 * oldest of them. Shared locks never wait on each other, so writers are not serialised. The
 * numbering is in the database so that no insert, from any code path, can skip it.
 */
export class OutboxCommitOrder1795300561000 implements MigrationInterface {
  name = 'OutboxCommitOrder1795300561000';

  async up(q: QueryRunner): Promise<void> {
    // The keys (7311301, 7311302) are OUTBOX_WRITING and OUTBOX_ID in modules/events/outbox-watermark.ts.
    await q.query(`
      CREATE FUNCTION outbox_events_number() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        low bigint;
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(7311301, 0);
        NEW.id := nextval('outbox_events_id_seq');
        low := NEW.id % 4294967296;
        PERFORM pg_advisory_xact_lock_shared(7311302, (CASE WHEN low >= 2147483648 THEN low - 4294967296 ELSE low END)::integer);
        RETURN NEW;
      END
      $$`);
    await q.query('ALTER TABLE outbox_events ALTER COLUMN id DROP DEFAULT');
    await q.query('CREATE TRIGGER outbox_events_number BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION outbox_events_number()');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER outbox_events_number ON outbox_events');
    await q.query("ALTER TABLE outbox_events ALTER COLUMN id SET DEFAULT nextval('outbox_events_id_seq')");
    await q.query('DROP FUNCTION outbox_events_number()');
  }
}
