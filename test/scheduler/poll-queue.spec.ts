import { randomUUID } from 'node:crypto';
import { PollQueue } from '../../src/modules/polling/poll-queue.store.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';
import { pollRows, schedule } from './support.js';

/** The claim statement itself, on a replica whose worker is off (nothing else touches the table). */
describe('PollQueue: claiming with leases', () => {
  let bff: TestBff;
  let queue: PollQueue;
  const claim = (owner: string, kinds: ('consent' | 'payment' | 'ais-refresh')[] = ['payment'], limit = 10) =>
    queue.claim({ owner, limit, leaseSeconds: 30, minIntervalMs: 1000, kinds });

  beforeAll(async () => {
    bff = await startTestBff({ SCHEDULER_ENABLED: 'false' });
    queue = bff.app.get(PollQueue);
  });
  beforeEach(async () => {
    await withClient(bff.db.url, (c) => c.query('DELETE FROM poll_items'));
  });
  afterAll(async () => {
    await bff.close();
  });

  it('claims only due items of the kinds asked for, oldest first, up to the limit, each once', async () => {
    const now = Date.now();
    const [late, early, future] = await schedule(bff, [
      { kind: 'payment', at: new Date(now - 1000) },
      { kind: 'payment', at: new Date(now - 5000) },
      { kind: 'payment', at: new Date(now + 60_000) },
    ]);
    await schedule(bff, [{ kind: 'consent', at: new Date(now - 9000) }]);
    expect((await claim('r1', ['payment'], 1)).map((i) => i.resourceId)).toEqual([early]);
    expect((await claim('r2')).map((i) => i.resourceId)).toEqual([late]);
    expect(await claim('r3')).toEqual([]); // the rest is leased or not due
    const rows = await pollRows(bff.db.url, 'payment');
    expect(rows.find((r) => r.resource_id === future)).toMatchObject({ leased_by: null });
    expect(rows.find((r) => r.resource_id === early)).toMatchObject({ leased_by: 'r1', lease_until: expect.any(Date) });
    expect((await pollRows(bff.db.url, 'consent'))[0]).toMatchObject({ leased_by: null });
  });

  it('lets twenty concurrent claimers share the items without ever handing one out twice', async () => {
    await schedule(
      bff,
      Array.from({ length: 200 }, () => ({ kind: 'payment' as const, at: new Date(Date.now() - 1000) })),
    );
    const claims = await Promise.all(Array.from({ length: 20 }, (_, n) => claim(`r${n}`, ['payment'], 15)));
    const ids = claims.flat().map((i) => i.resourceId);
    expect(ids).toHaveLength(200);
    expect(new Set(ids).size).toBe(200);
  });

  it('writes an outcome only while the lease is held, and not again within the minimum interval', async () => {
    const [id] = await schedule(bff, [{ kind: 'payment', resourceId: randomUUID() }]);
    const [item] = await claim('r1');
    expect(await queue.reschedule('someone-else', item, { delayMs: 1000, failures: 0, outcome: 'ok', status: 'RCVD' })).toBe(false);
    expect(await queue.reschedule('r1', item, { delayMs: 0, failures: 0, outcome: 'ok', status: 'RCVD' })).toBe(true);
    // Due at once (delay 0), yet polled less than a second ago: not claimable yet.
    expect(await claim('r2')).toEqual([]);
    await withClient(bff.db.url, (c) => c.query("UPDATE poll_items SET last_polled_at = now() - interval '1 second' WHERE resource_id = $1", [id]));
    expect((await claim('r2')).map((i) => i.resourceId)).toEqual([id]);
  });
});
