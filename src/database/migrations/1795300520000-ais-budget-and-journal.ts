import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * AIS budgets counted per bank call, and consent creation journaled like payments.
 * - `ais_unattended_reads` gets one row per unattended request carrying the Consent-ID (each page
 *   too), with the resource it read and its page, so a bank that counts every call (`per_call`) and
 *   one that counts per resource (`per_resource`) are both counted from the same rows. Rows written
 *   before this stood for a whole refresh: they keep resource `*`, which counts against every resource.
 * - `ais_consents` is written before the bank is asked (`pending`, no bank id yet); a bank that does
 *   not answer usably leaves it `unknown`, with the bank's id when it sent one.
 */
export class AisBudgetAndJournal1795300520000 implements MigrationInterface {
  name = 'AisBudgetAndJournal1795300520000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE ais_unattended_reads ADD COLUMN resource text NOT NULL DEFAULT '*', ADD COLUMN page integer NOT NULL DEFAULT 1 CHECK (page >= 1)`,
    );
    await q.query('ALTER TABLE ais_unattended_reads ALTER COLUMN resource DROP DEFAULT');
    await q.query('ALTER TABLE ais_consents ALTER COLUMN bank_consent_id DROP NOT NULL');
    await q.query('ALTER TABLE ais_consents DROP CONSTRAINT ais_consents_status_check');
    await q.query(`ALTER TABLE ais_consents ADD CONSTRAINT ais_consents_status_check
      CHECK (status IN ('pending', 'unknown', 'received', 'valid', 'rejected', 'revokedByPsu', 'expired', 'terminatedByTpp', 'invalid'))`);
    // A consent the bank knows always has its id; only our own two states may lack it.
    await q.query(
      `ALTER TABLE ais_consents ADD CONSTRAINT ais_consents_bank_id_check CHECK (bank_consent_id IS NOT NULL OR status IN ('pending', 'unknown', 'terminatedByTpp', 'expired'))`,
    );
    await q.query(`CREATE INDEX ais_consents_unsettled_idx ON ais_consents (aspsp_id) WHERE status IN ('pending', 'unknown')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX ais_consents_unsettled_idx');
    await q.query(`DELETE FROM ais_consents WHERE bank_consent_id IS NULL`);
    await q.query('ALTER TABLE ais_consents DROP CONSTRAINT ais_consents_bank_id_check');
    await q.query('ALTER TABLE ais_consents DROP CONSTRAINT ais_consents_status_check');
    await q.query(`UPDATE ais_consents SET status = 'invalid' WHERE status IN ('pending', 'unknown')`);
    await q.query(`ALTER TABLE ais_consents ADD CONSTRAINT ais_consents_status_check
      CHECK (status IN ('received', 'valid', 'rejected', 'revokedByPsu', 'expired', 'terminatedByTpp', 'invalid'))`);
    await q.query('ALTER TABLE ais_consents ALTER COLUMN bank_consent_id SET NOT NULL');
    await q.query('ALTER TABLE ais_unattended_reads DROP COLUMN page, DROP COLUMN resource');
  }
}
