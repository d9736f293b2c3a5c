import { randomInt } from 'node:crypto';
import { createSandboxApp, type SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { VAULT_K1 } from '../support/bank-world.js';
import { withClient } from '../support/database.js';
import { IBAN } from '../support/payment-fixtures.js';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';
import { ApiClient } from './api-client.js';
import { EventFollower } from './event-follower.js';
import { Replica } from './replicas.js';
import { SoakUser, type UserPlan } from './soak-user.js';

/** How long users act with faults on; then faults stop and everything must settle within DRAIN. */
const RUN_MS = 60_000;
const DRAIN_MS = 45_000;
const FAULT_RATE = 0.1;
const WARM_UP_MS = 12_000;
const KILL_AT_MS = 18_000;
const RESTART_AFTER_MS = 5_000;
const DATABASE_DOWN_AT_MS = 33_000;
const DATABASE_DOWN_MS = 10_000;
const OTHER_IBAN = 'DE89370400440532013000';

const PLANS: UserPlan[] = [
  { userId: 'soak-1', bankUser: 'alice', aspspId: 'flowe', debtorIban: IBAN.aliceFlowe, creditorIban: IBAN.bobFlowe, creditorName: 'Bob Bianchi' },
  { userId: 'soak-2', bankUser: 'bob', aspspId: 'flowe', debtorIban: IBAN.bobFlowe, creditorIban: IBAN.aliceFlowe, creditorName: 'Alice Rossi' },
  { userId: 'soak-3', bankUser: 'alice', aspspId: 'flowe', debtorIban: IBAN.aliceFlowe, creditorIban: OTHER_IBAN, creditorName: 'Mario Verdi' },
  { userId: 'soak-4', bankUser: 'bob', aspspId: 'flowe', debtorIban: IBAN.bobFlowe, creditorIban: OTHER_IBAN, creditorName: 'Mario Verdi' },
  {
    userId: 'soak-5',
    bankUser: 'alice',
    aspspId: 'connectpay',
    debtorIban: IBAN.aliceConnectPay,
    creditorIban: IBAN.bobConnectPay,
    creditorName: 'Bob Bianchi',
  },
  { userId: 'soak-6', bankUser: 'bob', aspspId: 'connectpay', debtorIban: IBAN.bobConnectPay, creditorIban: IBAN.aliceConnectPay, creditorName: 'Alice Rossi' },
];

interface BankPayment {
  paymentId: string;
  profile: string;
  transactionStatus: string;
  endToEndIdentification: string | null;
}

interface StoredPayment {
  id: string;
  user_id: string;
  status: string;
  bank_payment_id: string | null;
  end_to_end_identification: string;
  failure_code: string | null;
  reconciliation_started_at: Date | null;
  reconciliation_method: string | null;
  reconciliation_outcome: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Two BFF replicas (processes, as deployed) on one PostgreSQL, the sandbox faulting a tenth of
 * every token and API call (5xx, 429, resets, hangs, slow answers, answers lost after the bank did
 * the work), six users connecting, reading, paying and cancelling, one replica killed and
 * restarted midway, PostgreSQL stopped for 10 s. Then the faults stop and everything must settle:
 * every payment exists exactly once at the bank (in the status the BFF shows) or is `failed` with
 * no bank record, none is left unknown without a reconciliation record, every event reached every
 * user's stream (de-duplicated by id), no replica crashed or logged an unhandled rejection, and
 * memory came back. Loopback only; its own embedded PostgreSQL.
 */
describe('soak: faults, a killed replica and a database outage', () => {
  let pg: OwnPostgres;
  let sandbox: SandboxApp;
  const replicas: Replica[] = [];
  /** Stopped in afterAll too, so a failed run leaves no timer or stream behind to keep Jest alive. */
  const running: { stop(): unknown }[] = [];
  const testRejections: unknown[] = [];
  const onRejection = (reason: unknown) => testRejections.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    pg = await startOwnPostgres();
    // Settlement three seconds after approval, without cut-offs: the run is short.
    sandbox = await createSandboxApp({ port: 0, host: '127.0.0.1', logger: false, settlementSeconds: 3, modes: { flowe: { cutoffTimes: [] } } });
    const env = {
      DATABASE_URL: pg.url,
      SANDBOX_URL: sandbox.httpUrl,
      TOKEN_VAULT_KEYS: VAULT_K1,
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      DB_STATEMENT_TIMEOUT_MS: '3000',
      DB_CONNECT_TIMEOUT_MS: '2000',
      FLOWE_TIMEOUT_MS: '2500',
      CONNECTPAY_TIMEOUT_MS: '2500',
      SCHEDULER_TICK_MS: '100',
      SCHEDULER_LEASE_SECONDS: '8',
      SCHEDULER_ERROR_MAX_BACKOFF_SECONDS: '5',
      SSE_HEARTBEAT_SECONDS: '5',
      // Streams read the outbox often, so they also look while transactions are committing.
      EVENTS_POLL_MS: '25',
      PIS_SETTLED_POLL_SECONDS: '30',
      PIS_SETTLEMENT_WINDOW_SECONDS: '600',
      PIS_RECONCILE_WINDOW_SECONDS: '20',
      PIS_RECONCILE_POLL_SECONDS: '2',
    };
    replicas.push(await Replica.start('A', env), await Replica.start('B', env));
  }, 120_000);

  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    await Promise.all(running.map((r) => r.stop()));
    await Promise.all(replicas.map((r) => r.stop()));
    await sandbox?.close();
    await pg?.destroy();
  }, 60_000);

  it('loses no payment and no event, and comes back to where it started', async () => {
    const [a, b] = replicas;
    const started = Date.now();
    await fetch(`${sandbox.httpUrl}/admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ profile: '*', route: '*', mixedRate: FAULT_RATE }),
    });
    const users = PLANS.map((plan, i) => new SoakUser(plan, new ApiClient(plan.userId, replicas, i % 2), replicas));
    const followers = users.map((u, i) => new EventFollower(new ApiClient(u.plan.userId, replicas, (i + 1) % 2), u.plan.userId));
    for (const follower of followers) follower.start();
    running.push(...followers);

    const psu = new BankApp(sandbox.httpUrl, users);
    psu.start();
    running.push(psu);
    await Promise.all(users.map((u) => u.setUp(Date.now() + 45_000)));
    const setUpMs = Date.now() - started;
    const rssAtLaunch = b.rss();

    // The run: users act; a replica dies and comes back; the database goes away for 10 s.
    const runStart = Date.now();
    const acting = users.map(async (user) => {
      while (Date.now() - runStart < RUN_MS) {
        await user.act();
        await sleep(500 + randomInt(900));
      }
    });
    // Memory once the replica has warmed up under the load, before anything is broken, after a
    // full collection: the baseline a leak would grow away from. The end is measured the same way.
    let rssAtStart = 0;
    const memory: string[] = [];
    const warmUp = (async () => {
      await sleep(WARM_UP_MS);
      await b.collectGarbage();
      rssAtStart = b.rss();
      memory.push(`warm ${await heapOf(b)}`);
    })();
    const chaos = (async () => {
      await sleep(KILL_AT_MS);
      await a.kill();
      await sleep(RESTART_AFTER_MS);
      await a.restart();
      await sleep(Math.max(0, DATABASE_DOWN_AT_MS - (Date.now() - runStart)));
      await pg.stop();
      await sleep(DATABASE_DOWN_MS);
      await pg.start();
    })();
    await Promise.all([...acting, chaos, warmUp]);

    // Quiet: no more faults; the statements users read bring in what reconciliation needs.
    await fetch(`${sandbox.httpUrl}/admin/faults`, { method: 'DELETE' });
    const faults = await faultCount(sandbox.httpUrl);
    const drainStart = Date.now();
    let verdict = await check(pg, sandbox.httpUrl, followers);
    while (!verdict.settled && Date.now() - drainStart < DRAIN_MS) {
      await Promise.all(users.map((u) => u.readStatement()));
      await sleep(2000);
      verdict = await check(pg, sandbox.httpUrl, followers);
    }
    psu.stop();
    await Promise.all(followers.map((f) => f.stop()));
    // Idle again: V8 gives memory back after a few quiet seconds; the lowest sample counts.
    memory.push(`end ${await heapOf(b)}`);
    await b.collectGarbage();
    const rssAtEnd = b.rss();
    memory.push(`collected ${await heapOf(b)}`);

    const summary = {
      seconds: { setUp: Math.round(setUpMs / 1000), run: RUN_MS / 1000, drain: Math.round((Date.now() - drainStart) / 1000) },
      payments: verdict.counts,
      intents: users.reduce((n, u) => n + u.intents.length, 0),
      answers: Object.fromEntries(
        [...users.flatMap((u) => [...u.answers])].reduce((m, [status, n]) => m.set(status, (m.get(status) ?? 0) + n), new Map<number, number>()),
      ),
      events: {
        committed: verdict.eventsCommitted,
        delivered: followers.reduce((n, f) => n + f.received.size, 0),
        duplicates: followers.reduce((n, f) => n + f.duplicates, 0),
        reconnects: followers.reduce((n, f) => n + f.reconnects, 0),
      },
      faultsInjected: faults,
      bankDecisions: psu.decisions,
      restarts: replicas.reduce((n, r) => n + r.restarts, 0),
      databaseDownSeconds: DATABASE_DOWN_MS / 1000,
      rssMiB: { launched: mib(rssAtLaunch), warm: mib(rssAtStart), end: mib(rssAtEnd) },
      memory,
    };
    process.stdout.write(`\nsoak summary ${JSON.stringify(summary, null, 2)}\n`);

    expect(verdict.problems).toEqual([]);
    expect(verdict.unsettled).toEqual([]);
    expect(verdict.counts.total).toBeGreaterThanOrEqual(30);
    expect(faults).toBeGreaterThanOrEqual(20);
    expect(followers.flatMap((f) => f.errors)).toEqual([]);
    for (const replica of replicas) {
      expect({ replica: replica.name, unhandled: replica.unhandledRejections(), unexpectedExits: replica.unexpectedExits }).toEqual({
        replica: replica.name,
        unhandled: [],
        unexpectedExits: [],
      });
    }
    expect(testRejections).toEqual([]);
    expect(rssAtEnd).toBeLessThanOrEqual(rssAtStart * 1.2);
  });
});

/** The replica's heap and external memory as it reports them (MiB). */
async function heapOf(replica: Replica): Promise<string> {
  const text = await (await fetch(`${replica.url}/metrics`)).text();
  const value = (name: string) => mib(Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0));
  return `rss ${value('process_resident_memory_bytes')} heapUsed ${value('nodejs_heap_size_used_bytes')} heapTotal ${value('nodejs_heap_size_total_bytes')} external ${value('nodejs_external_memory_bytes')}`;
}

function mib(bytes: number): number {
  return Math.round(bytes / 1048576);
}

/**
 * The PSU in the bank app: approves every pending consent and payment after a moment (so a
 * cancellation can still race it), and rejects some payments, but only ones the frontend knows the
 * bank's id of. A payment whose answer was lost is always approved, so it shows on the statement:
 * one the bank holds but never shows would be indistinguishable from one it never got.
 */
class BankApp {
  decisions = { approved: 0, rejected: 0 };
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sandboxUrl: string,
    private readonly users: readonly SoakUser[],
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.decide().catch(() => undefined), 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async decide(): Promise<void> {
    const pending = (await (await fetch(`${this.sandboxUrl}/psu/api/pending`)).json()) as {
      consents: { id: string }[];
      payments: { id: string; createdAt: string }[];
    };
    const known = new Set(this.users.flatMap((u) => u.intents.map((i) => i.bankPaymentId).filter(Boolean)));
    for (const consent of pending.consents) await this.post({ kind: 'consent', id: consent.id, decision: 'approve' });
    for (const payment of pending.payments) {
      if (Date.now() - Date.parse(payment.createdAt) < 1500) continue;
      const reject = known.has(payment.id) && randomInt(100) < 15;
      if (await this.post({ kind: 'payment', id: payment.id, decision: reject ? 'reject' : 'approve' })) this.decisions[reject ? 'rejected' : 'approved']++;
    }
  }

  private async post(body: Record<string, string>): Promise<boolean> {
    const res = await fetch(`${this.sandboxUrl}/psu/api/decisions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return res.status === 200;
  }
}

async function faultCount(sandboxUrl: string): Promise<number> {
  const { requests } = (await (await fetch(`${sandboxUrl}/admin/requests`)).json()) as { requests: { fault?: string }[] };
  return requests.filter((r) => r.fault).length;
}

interface Verdict {
  settled: boolean;
  problems: string[];
  /** What is still in flight (empty once settled). */
  unsettled: string[];
  counts: Record<string, number>;
  eventsCommitted: number;
}

/**
 * Compares the BFF's payments with the bank's, and every user's outbox with what its stream
 * received. `settled`: nothing is still in flight (pending, or unknown and still searching) and
 * nothing is missing; `problems`: what is wrong, each a sentence.
 */
async function check(pg: OwnPostgres, sandboxUrl: string, followers: readonly EventFollower[]): Promise<Verdict> {
  const problems: string[] = [];
  const unsettled: string[] = [];
  const counts: Record<string, number> = { total: 0 };
  let eventsCommitted = 0;
  try {
    const { payments: bank } = (await (await fetch(`${sandboxUrl}/admin/payments`)).json()) as { payments: BankPayment[] };
    const atBank = new Map<string, BankPayment[]>();
    for (const p of bank) if (p.endToEndIdentification) atBank.set(p.endToEndIdentification, [...(atBank.get(p.endToEndIdentification) ?? []), p]);
    await withClient(pg.url, async (db) => {
      const ours = (await db.query<StoredPayment>('SELECT * FROM payments ORDER BY seq')).rows;
      const e2e = new Set(ours.map((p) => p.end_to_end_identification));
      for (const p of ours) {
        counts.total++;
        const key =
          p.status === 'unknown' || p.status === 'failed'
            ? `${p.status}:${p.reconciliation_outcome}`
            : p.reconciliation_method
              ? `${p.status} (reconciled: ${p.reconciliation_method})`
              : p.status;
        counts[key] = (counts[key] ?? 0) + 1;
        const matches = atBank.get(p.end_to_end_identification) ?? [];
        if (p.status === 'pending') {
          unsettled.push(`payment ${p.id} pending`);
        } else if (p.status === 'unknown') {
          if (!p.reconciliation_started_at) problems.push(`payment ${p.id} is unknown without a reconciliation record`);
          if (p.reconciliation_outcome === 'searching')
            unsettled.push(`payment ${p.id} unknown, still searching (at the bank: ${matches.map((m) => m.transactionStatus).join(', ') || 'nothing'})`);
        } else if (p.status === 'failed') {
          if (matches.length > 0)
            problems.push(
              `payment ${p.id} is failed (${p.failure_code}) but the bank has ${matches.map((m) => `${m.paymentId} ${m.transactionStatus}`).join(', ')}`,
            );
        } else if (matches.length !== 1) {
          problems.push(`payment ${p.id} (${p.status}) is ${matches.length} times at the bank`);
        } else if (p.bank_payment_id && matches[0].paymentId !== p.bank_payment_id) {
          problems.push(`payment ${p.id} has bank id ${p.bank_payment_id}, the bank ${matches[0].paymentId}`);
        } else if (matches[0].transactionStatus !== p.status) {
          // Not yet polled since the bank's last change: still settling.
          unsettled.push(`payment ${p.id} ${p.status}, at the bank ${matches[0].transactionStatus}`);
        }
      }
      for (const [id, matches] of atBank) {
        if (!e2e.has(id)) problems.push(`the bank has payment ${matches[0].paymentId} (end-to-end ${id}) that the BFF does not know`);
        else if (matches.length > 1) problems.push(`the bank has end-to-end id ${id} ${matches.length} times`);
      }
      for (const follower of followers) {
        if (follower.startId === undefined) {
          problems.push('an event stream never opened');
          continue;
        }
        const committed = (
          await db.query<{ id: string }>('SELECT id::text FROM outbox_events WHERE user_id = $1 AND id > $2', [follower.userId, follower.startId.toString()])
        ).rows.map((r) => r.id);
        eventsCommitted += committed.length;
        const missing = committed.filter((id) => !follower.received.has(id));
        if (missing.length > 0) {
          const rows = (await db.query('SELECT id::text, type, payload, created_at FROM outbox_events WHERE id = ANY($1::bigint[])', [missing])).rows;
          unsettled.push(`${follower.userId}: events not received ${JSON.stringify(rows)}; its streams: ${JSON.stringify(follower.connections)}`);
        }
        const foreign = [...follower.received].filter((id) => !committed.includes(id));
        if (foreign.length > 0) problems.push(`${follower.userId} received events that are not its own: ${foreign.join(', ')}`);
      }
    });
  } catch (error) {
    return { settled: false, problems: [], unsettled: [`could not check: ${String(error)}`], counts, eventsCommitted };
  }
  return { settled: unsettled.length === 0, problems, unsettled, counts, eventsCommitted };
}
