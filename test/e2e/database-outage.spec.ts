import { sandboxLogin } from '../support/bank-login.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';
import { waitFor } from '../support/process.js';

const STATEMENT_TIMEOUT_MS = 2000;
/** What a request may take while the database is frozen: the statement timeout plus 1 s. */
const BOUND_MS = STATEMENT_TIMEOUT_MS + 1000;
const FROZEN_MS = 12_000;

interface Outcome {
  what: string;
  startedAt: number;
  ms: number;
  status: number;
  retryAfter: string | null;
  contentType: string | null;
  code?: string;
}

/**
 * A frozen database (every PostgreSQL process SIGSTOPped: connections open, nothing answers) must
 * not hold requests: each gets a 503 problem with Retry-After within the statement timeout plus
 * 1 s, readiness turns red before the API does, and everything works again once it thaws. The
 * database is the test's own embedded server; the machine's shared one is never touched.
 */
describe('a frozen database', () => {
  let pg: OwnPostgres;
  let bff: TestBff;

  beforeAll(async () => {
    pg = await startOwnPostgres();
    bff = await startTestBff({ DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS), DB_CONNECT_TIMEOUT_MS: '2000' }, { db: pg.db });
  }, 60_000);
  afterAll(async () => {
    pg?.thaw();
    await bff?.close();
    await pg?.destroy();
  }, 30_000);

  it('answers every API request within the statement timeout + 1 s with 503 and Retry-After, readiness first, then recovers', async () => {
    const token = await sandboxLogin(bff.url, 'alice');
    const auth = { authorization: `Bearer ${token}` };
    const calls: [string, () => Promise<Response>][] = [
      ['GET /api/v1/payments', () => fetch(`${bff.url}/api/v1/payments`, { headers: auth })],
      ['GET /api/v1/connections', () => fetch(`${bff.url}/api/v1/connections`, { headers: auth })],
      [
        'POST /api/v1/connections',
        () =>
          fetch(`${bff.url}/api/v1/connections`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ aspspId: 'flowe', returnUrl: `${bff.url}/` }),
          }),
      ],
      ['GET /api/v1/events', () => fetch(`${bff.url}/api/v1/events`, { headers: auth, signal: AbortSignal.timeout(20_000) })],
    ];
    for (const [what, call] of calls) {
      const res = await call();
      expect({ what, status: res.status }).toEqual({ what, status: what.startsWith('POST') ? 201 : 200 });
      await res.body?.cancel();
    }

    const outcomes: Outcome[] = [];
    const measure = async (what: string, call: () => Promise<Response>) => {
      const startedAt = Date.now();
      const res = await call();
      const outcome: Outcome = {
        what,
        startedAt,
        ms: Date.now() - startedAt,
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        contentType: res.headers.get('content-type'),
      };
      if (res.headers.get('content-type')?.includes('json')) outcome.code = ((await res.json()) as { code?: string }).code;
      else await res.body?.cancel();
      outcomes.push(outcome);
    };

    pg.freeze();
    const frozenAt = Date.now();
    let thawedAt = Number.POSITIVE_INFINITY;
    try {
      // Readiness and the API asked at the same moment: readiness must answer red first.
      const ready = measure('GET /health/ready', () => fetch(`${bff.url}/health/ready`));
      const firstApi = measure(calls[0][0], calls[0][1]);
      await Promise.all([ready, firstApi]);
      // Then a steady stream of every call, more at once than the pool has connections.
      const running: Promise<void>[] = [];
      while (Date.now() - frozenAt < FROZEN_MS - BOUND_MS) {
        for (const [what, call] of calls) running.push(measure(what, call));
        await new Promise((r) => setTimeout(r, 400));
      }
      await Promise.all(running);
    } finally {
      pg.thaw();
      thawedAt = Date.now();
    }

    const ready = outcomes.find((o) => o.what === 'GET /health/ready')!;
    const firstApi = outcomes.find((o) => o.what === calls[0][0])!;
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(firstApi.ms);

    const api = outcomes.filter((o) => o.what !== 'GET /health/ready');
    expect(api.length).toBeGreaterThanOrEqual(20);
    const slow = api.filter((o) => o.ms > BOUND_MS);
    expect(slow).toEqual([]);
    // Every request answered while the server was still frozen (thawing can fall in the same
    // millisecond as the last answer) was refused the same way.
    const answeredFrozen = api.filter((o) => o.startedAt + o.ms <= thawedAt);
    expect(answeredFrozen.length).toBe(api.length);
    for (const o of answeredFrozen) {
      expect({ what: o.what, status: o.status, code: o.code, retryAfter: o.retryAfter, type: o.contentType?.split(';')[0] }).toEqual({
        what: o.what,
        status: 503,
        code: 'database_unavailable',
        retryAfter: '5',
        type: 'application/problem+json',
      });
    }

    // Thawed: the pool replaces the connections it closed, and every call works again.
    await waitFor(async () => (await fetch(`${bff.url}/health/ready`)).status === 200, 15_000, 'readiness after the thaw');
    for (const [what, call] of calls) {
      const res = await call();
      expect({ what, status: res.status }).toEqual({ what, status: what.startsWith('POST') ? 201 : 200 });
      await res.body?.cancel();
    }
    const metrics = await (await fetch(`${bff.url}/metrics`)).text();
    expect(metrics).toMatch(/^db_pool_connections\{state="in_use"[^}]*\} \d+$/m);
    expect(metrics).toMatch(/^db_pool_connections\{state="idle"[^}]*\} \d+$/m);
    expect(metrics).toMatch(/^db_pool_waiting\{[^}]*\} 0$/m);
  }, 90_000);
});
