import { startTestBff, type TestBff } from '../support/bff.js';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';
import { FAST_SCHEDULER, pollRows, recordingHandler, register, schedule, until, type PollCall } from './support.js';

/** Long enough that waiting it out is unmistakable. */
const LEASE_SECONDS = 60;

/**
 * The database goes away while a poll is at the bank, so its outcome cannot be written: the
 * replica still holds the lease, and nobody would poll the item before it expired. The outcome is
 * written as soon as the database is back, and polling resumes on the item's own schedule. The
 * database is the test's own embedded server, stopped and started by the test.
 */
describe('a poll whose outcome cannot be written', () => {
  let pg: OwnPostgres;
  let bff: TestBff;

  beforeAll(async () => {
    pg = await startOwnPostgres();
    bff = await startTestBff(
      { ...FAST_SCHEDULER, SCHEDULER_LEASE_SECONDS: String(LEASE_SECONDS), DB_CONNECT_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '1000' },
      { db: pg.db },
    );
  }, 60_000);
  afterAll(async () => {
    await pg?.start();
    await bff?.close();
    await pg?.destroy();
  }, 30_000);

  it('is written once the database is back, and the item is polled again within seconds, not after the lease', async () => {
    const log: PollCall[] = [];
    let outage: Promise<void> | undefined;
    register(
      bff,
      'payment',
      recordingHandler(log, 'a', async (_context, calls) => {
        // The first poll reaches the bank; the database stops before its outcome is written.
        if (calls === 0) await (outage = pg.stop());
        return { final: false, status: 'ACSP' };
      }),
    );
    const [id] = await schedule(bff, [{ kind: 'payment' }]);
    await until('the first poll', () => log.length >= 1, 10_000);
    await outage;
    await new Promise((r) => setTimeout(r, 2000)); // outcome writes keep failing meanwhile
    expect(log).toHaveLength(1);
    await pg.start();
    const back = Date.now();

    await until('the second poll', () => log.length >= 2, 10_000);
    expect(log[1].start - back).toBeLessThan(5000);
    expect(log[1].start - log[0].end).toBeGreaterThanOrEqual(1000);
    expect(log[1].context).toMatchObject({ resourceId: id, attempts: 1, lastStatus: 'ACSP' });
    await until('the second outcome', async () => (await pollRows(pg.url))[0]?.attempts === 2, 5000);
    const [row] = await pollRows(pg.url);
    expect(row).toMatchObject({ last_status: 'ACSP', failures: 0 });
  }, 60_000);
});
