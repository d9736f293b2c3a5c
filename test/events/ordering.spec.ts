import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { OutboxStore } from '../../src/modules/events/outbox.store.js';
import { sandboxLogin } from '../support/bank-login.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { SseClient } from './sse-client.js';

/** A payment.status event as the server writes it (the contract check holds the stream to its schema); only ids matter here. */
const paymentEvent = () => ({ paymentId: randomUUID(), connectionId: randomUUID(), status: 'ACSP' });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const USERS = ['ann', 'ben', 'cid'];

/**
 * Event streams under load: many writers on two replicas committing (or rolling back) in any
 * order, while streams on both replicas follow. Every committed event must reach its user's
 * stream once, in id order, including across ids that gain a digit.
 */
describe('event streams with concurrent writers', () => {
  let db: TestDatabase;
  let a: TestBff;
  let b: TestBff;

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startTestBff({ SCHEDULER_ENABLED: 'false' }, { db });
    b = await startTestBff({ SCHEDULER_ENABLED: 'false' }, { db });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await db.drop();
  });

  const open = async () =>
    Promise.all(USERS.map(async (user, i) => SseClient.open(`${[a, b][i % 2].url}/api/v1/events`, await sandboxLogin([a, b][i % 2].url, user))));
  const committed = async () =>
    (await a.app.get(DataSource).query('SELECT id::text, user_id AS "userId" FROM outbox_events ORDER BY outbox_events.id')) as {
      id: string;
      userId: string;
    }[];
  const numeric = (ids: string[]) => ids.map(BigInt);

  it('sends a burst that crosses from two-digit to three-digit ids in numeric order, losing none', async () => {
    const streams = await open();
    await sleep(600);
    // One transaction: 150 events become visible at once and are read in one batch.
    await a.app.get(DataSource).transaction(async (manager) => {
      for (let n = 0; n < 150; n++) await a.app.get(OutboxStore).record(manager, { userId: USERS[n % 3], type: 'payment.status', data: paymentEvent() });
    });
    const rows = await committed();
    for (const [i, stream] of streams.entries()) {
      const own = rows.filter((r) => r.userId === USERS[i]).map((r) => r.id);
      await stream.waitFor(`${USERS[i]}'s last event`, (e) => e.id === own.at(-1), 5000);
      const ids = stream.events.map((e) => e.id!);
      expect(ids).toEqual(own);
      expect(numeric(ids)).toEqual([...numeric(ids)].sort((x, y) => (x < y ? -1 : 1)));
    }
    await Promise.all(streams.map((s) => s.close()));
  });

  it('delivers every event committed by writers on both replicas in any order, once each', async () => {
    const streams = await open();
    await sleep(600);
    const existing = await committed();
    const before = existing.length;
    const lastBefore = BigInt(existing.at(-1)?.id ?? '0');
    const deadline = Date.now() + 3000;
    const writer = async (app: TestBff, n: number) => {
      for (let i = 0; Date.now() < deadline; i++) {
        const runner = app.app.get(DataSource).createQueryRunner();
        await runner.connect();
        await runner.startTransaction();
        try {
          await app.app.get(OutboxStore).record(runner.manager, { userId: USERS[(n + i) % 3], type: 'payment.status', data: paymentEvent() });
          await sleep(Math.floor(Math.random() * 40));
          if (i % 7 === 3) await runner.rollbackTransaction();
          else await runner.commitTransaction();
        } finally {
          await runner.release();
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, n) => writer(n % 2 ? a : b, n)));
    const rows = await committed();
    expect(rows.length - before).toBeGreaterThan(100);
    for (const [i, stream] of streams.entries()) {
      const expected = rows.filter((r) => r.userId === USERS[i] && BigInt(r.id) > lastBefore).map((r) => r.id);
      await stream.waitFor(`${USERS[i]}'s last event`, (e) => e.id === expected.at(-1), 5000);
      const ids = stream.events.map((e) => e.id!);
      expect({ user: USERS[i], missing: expected.filter((id) => !ids.includes(id)), duplicates: ids.length - new Set(ids).size }).toEqual({
        user: USERS[i],
        missing: [],
        duplicates: 0,
      });
      expect(numeric(ids)).toEqual([...numeric(ids)].sort((x, y) => (x < y ? -1 : 1)));
    }
    await Promise.all(streams.map((s) => s.close()));
  });
});
