import { AppError } from '../../src/common/errors/app-error.js';
import { PollWorker } from '../../src/modules/scheduler/poll-worker.service.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/database.js';
import { FAST_SCHEDULER, pollRows, recordingHandler, register, schedule, scrape, sleep, until, type PollCall } from './support.js';

const ENV = { ...FAST_SCHEDULER, SCHEDULER_LEASE_SECONDS: '2' };

function gaps(calls: PollCall[]): number[] {
  return calls.slice(1).map((c, i) => c.start - calls[i].end);
}

describe('scheduler: claiming and polling on PostgreSQL', () => {
  let db: TestDatabase;
  let a: TestBff;

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startTestBff(ENV, { db });
  });
  beforeEach(async () => {
    await withClient(db.url, (c) => c.query('DELETE FROM poll_items'));
  });
  afterAll(async () => {
    await a.close();
    await db.drop();
  });

  it('polls an item to its final status no more than once a second, then forgets it', async () => {
    const log: PollCall[] = [];
    const statuses = ['RCVD', 'RCVD', 'ACSP', 'RJCT'];
    register(
      a,
      'payment',
      recordingHandler(log, 'a', (_, n) => ({ final: false, status: statuses[Math.min(n, 3)] })),
    );
    const [id] = await schedule(a, [{ kind: 'payment' }]);
    await until('the item to be removed', async () => (await pollRows(db.url)).length === 0, 8000);
    const calls = log.filter((c) => c.resourceId === id);
    expect(calls).toHaveLength(4);
    for (const gap of gaps(calls)) expect(gap).toBeGreaterThanOrEqual(1000);
    for (const gap of gaps(calls)) expect(gap).toBeLessThan(2500); // due every second: polled promptly
    expect(calls.map((c) => c.context.lastStatus)).toEqual([null, 'RCVD', 'RCVD', 'ACSP']);
    expect(calls.map((c) => c.context.attempts)).toEqual([0, 1, 2, 3]);
  });

  it('never polls an item again within a second, even when it is re-scheduled for now right after a poll', async () => {
    const log: PollCall[] = [];
    register(
      a,
      'payment',
      recordingHandler(log, 'a', () => ({ final: false, status: 'RCVD' })),
    );
    const [id] = await schedule(a, [{ kind: 'payment' }]);
    await until('the first outcome', async () => (await pollRows(db.url))[0]?.attempts === 1, 3000);
    await schedule(a, [{ kind: 'payment', resourceId: id, at: new Date(Date.now() - 5000) }]); // pulls next_poll_at into the past
    await until('the second poll', () => log.length >= 2, 3000);
    expect(log[1].start - log[0].end).toBeGreaterThanOrEqual(1000);
  });

  it('takes over an item whose lease expired (a replica killed mid-poll), and respects a live lease until it ends', async () => {
    const log: PollCall[] = [];
    register(
      a,
      'payment',
      recordingHandler(log, 'a', () => ({ final: false, status: 'RCVD' })),
    );
    const later = new Date(Date.now() + 3600_000); // not due before the leases below are in place
    const [dead, alive] = await schedule(a, [
      { kind: 'payment', at: later },
      { kind: 'payment', at: later },
    ]);
    const started = Date.now();
    await withClient(db.url, async (c) => {
      // As a replica leaves rows when it dies between claiming and writing the outcome.
      await c.query(
        "UPDATE poll_items SET leased_by = 'killed-host:4242:deadbeef', lease_until = now() - interval '1 second', next_poll_at = now() WHERE resource_id = $1",
        [dead],
      );
      await c.query(
        "UPDATE poll_items SET leased_by = 'busy-host:1:cafebabe', lease_until = now() + interval '2 seconds', next_poll_at = now() WHERE resource_id = $1",
        [alive],
      );
    });
    const first = await until('the dead lease to be taken over', () => log.find((c) => c.resourceId === dead), 3000);
    expect(first.start - started).toBeLessThan(1000);
    const second = await until('the live lease to end', () => log.find((c) => c.resourceId === alive), 5000);
    expect(second.start - started).toBeGreaterThanOrEqual(1900);
    // Once taken over, the dead replica's item is simply polled every second.
    expect(log.filter((c) => c.resourceId === dead).length).toBeGreaterThanOrEqual(2);
    expect((await pollRows(db.url)).every((r) => r.leased_by !== 'killed-host:4242:deadbeef' && r.leased_by !== 'busy-host:1:cafebabe')).toBe(true);
  });

  it('passes the deadline to consent handlers, which settle the consent locally', async () => {
    const log: PollCall[] = [];
    register(
      a,
      'consent',
      recordingHandler(log, 'a', (context) => (context.deadlinePassed ? { final: true, status: 'expired' } : { final: false, status: 'received' })),
    );
    const [late, fresh] = await schedule(a, [
      { kind: 'consent', deadlineAt: new Date(Date.now() - 1000) },
      { kind: 'consent', deadlineAt: new Date(Date.now() + 60_000) },
    ]);
    await until('the late consent to be settled', async () => !(await pollRows(db.url, 'consent')).some((r) => r.resource_id === late), 3000);
    expect(log.find((c) => c.resourceId === late)?.context.deadlinePassed).toBe(true);
    expect(log.find((c) => c.resourceId === fresh)?.context.deadlinePassed).toBe(false);
    expect((await pollRows(db.url, 'consent')).map((r) => r.resource_id)).toEqual([fresh]);
  });

  it('never gives up on a payment that stays ACSP or ACSC: only its handler ends it', async () => {
    const log: PollCall[] = [];
    register(
      a,
      'payment',
      recordingHandler(log, 'a', (_, n) => ({ final: false, status: n < 2 ? 'ACSP' : 'ACSC' })),
    );
    const [id] = await schedule(a, [{ kind: 'payment' }]);
    await until('four polls', () => log.length >= 4, 8000);
    expect((await pollRows(db.url)).map((r) => r.resource_id)).toEqual([id]);
    expect(await scrape(a.url)).not.toMatch(/outcome="acsp_cap"/);
  });

  it('drops an item whose resource is gone, and backs off after a handler failure', async () => {
    register(a, 'payment', async (context) => {
      if (context.resourceId === gone) throw AppError.notFound('Payment');
      throw new Error('handler bug');
    });
    const [gone, broken] = await schedule(a, [{ kind: 'payment' }, { kind: 'payment' }]);
    await until('the broken item to be polled', async () => (await pollRows(db.url)).find((r) => r.resource_id === broken && r.attempts === 1), 3000);
    const rows = await pollRows(db.url);
    expect(rows.map((r) => r.resource_id)).toEqual([broken]);
    expect(rows[0]).toMatchObject({ failures: 1, last_outcome: 'error', leased_by: null });
    expect(rows[0].next_poll_at.getTime() - rows[0].last_polled_at!.getTime()).toBeGreaterThanOrEqual(1000);
  });

  it('exports items due, polls by bank/kind/outcome, claim lag and each bank circuit as metrics', async () => {
    register(a, 'payment', async () => ({ final: false, status: 'RCVD' }));
    await schedule(a, [{ kind: 'payment', aspspId: 'connectpay' }]);
    // Due, but held by another replica's live lease: counted as due, not polled here.
    const [held] = await schedule(a, [{ kind: 'ais-refresh', at: new Date(Date.now() + 60_000) }]);
    await withClient(db.url, (c) =>
      c.query(
        "UPDATE poll_items SET next_poll_at = now() - interval '1 minute', leased_by = 'other', lease_until = now() + interval '1 minute' WHERE resource_id = $1",
        [held],
      ),
    );
    await until('a connectpay poll', async () => (await pollRows(db.url, 'payment'))[0]?.attempts === 1, 3000);
    const metrics = await scrape(a.url);
    expect(metrics).toMatch(/^scheduler_polls_total\{[^}]*aspsp="connectpay",kind="payment",outcome="ok"[^}]*\} \d+$/m);
    expect(metrics).toMatch(/^scheduler_items_due\{[^}]*kind="ais-refresh"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^scheduler_poll_lag_seconds_count\{[^}]*kind="payment"[^}]*\} \d+$/m);
    expect(metrics).toMatch(/^bank_circuit_state\{[^}]*aspsp="flowe"[^}]*\} 0$/m);
    expect(metrics).toMatch(/^bank_circuit_state\{[^}]*aspsp="connectpay"[^}]*\} 0$/m);
  });
});

describe('scheduler: replicas, slow polls and a replica stuck mid-poll', () => {
  let db: TestDatabase;
  let a: TestBff;
  const replicas: TestBff[] = [];
  /** Replicas started during a test: their real pollers only start once the test's items are leased. */
  const replica = async () => {
    const bff = await startTestBff(ENV, { db });
    replicas.push(bff);
    return bff;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    // One poll slot: once its poll hangs, replica a claims nothing more (as a frozen process); a
    // poll running over 3 s counts as stuck, so its lease (2 s) is no longer renewed after that.
    a = await startTestBff({ ...ENV, SCHEDULER_CONCURRENCY: '1', SCHEDULER_MAX_POLL_SECONDS: '3' }, { db });
  });
  afterAll(async () => {
    await a.close();
    for (const bff of replicas) await bff.close();
    await db.drop();
  });

  it("lets another replica take over when a poll hangs past the longest poll, and discards the stuck replica's late answer", async () => {
    const log: PollCall[] = [];
    let release!: () => void;
    const stuck = new Promise<void>((done) => (release = done));
    register(
      a,
      'payment',
      recordingHandler(log, 'a', async () => {
        await stuck;
        return { final: false, status: 'ACSP' };
      }),
    );
    const [id] = await schedule(a, [{ kind: 'payment' }]);
    await until('replica a to claim the item', () => log.length === 1, 3000);
    const owner = (await pollRows(db.url))[0].leased_by;
    expect(owner).toBe(a.app.get(PollWorker).owner);

    const b = await replica();
    register(
      b,
      'payment',
      recordingHandler(log, 'b', () => ({ final: false, status: 'RCVD' })),
    );
    const taken = await until('replica b to take the item over', () => log.find((call) => call.app === 'b'), 8000);
    expect(taken.start - log[0].start).toBeGreaterThanOrEqual(3000); // renewed while under SCHEDULER_MAX_POLL_SECONDS, then left to expire
    await until("b's outcome to be written", async () => (await pollRows(db.url))[0].attempts >= 1, 2000);

    release();
    await until("a's late poll to finish", () => a.app.get(PollWorker).busy === 0, 2000);
    const [row] = await pollRows(db.url);
    expect(row).toMatchObject({ resource_id: id, last_status: 'RCVD', last_outcome: 'ok' }); // a's ACSP never landed
    expect(log.filter((call) => call.app === 'a')).toHaveLength(1);
    expect(await scrape(a.url)).toMatch(/^scheduler_polls_total\{[^}]*outcome="lease_lost"[^}]*\} 1$/m);
  });
  it('keeps the lease of a poll slower than the lease itself: no other replica polls the item meanwhile', async () => {
    await withClient(db.url, (client) => client.query('DELETE FROM poll_items'));
    const log: PollCall[] = [];
    const slow = recordingHandler(log, 'any', async () => {
      await sleep(2500); // longer than SCHEDULER_LEASE_SECONDS (2)
      return { final: false, status: 'RCVD' };
    });
    await replica();
    for (const app of [a, ...replicas]) register(app, 'payment', slow);
    await schedule(a, [{ kind: 'payment' }]);
    await until('two complete polls', () => log.filter((call) => !Number.isNaN(call.end)).length >= 2, 12_000);
    for (let i = 1; i < log.length; i++) expect(log[i].start).toBeGreaterThanOrEqual(log[i - 1].end + 1000);
  });
});
