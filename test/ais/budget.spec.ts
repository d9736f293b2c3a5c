import request from 'supertest';
import { utcDate } from '../../src/aspsp/berlin-group/dates.js';
import { AisRefreshService } from '../../src/modules/ais/ais-refresh.service.js';
import { startTestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';
import { scrape } from '../scheduler/support.js';
import {
  admin,
  aisEnv,
  aisReads,
  auth,
  bankConsentIdOf,
  connect,
  createConsent,
  passTime,
  startAisWorld,
  unattendedUses,
  validConsent,
  type AisWorld,
  type Connected,
} from './support.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface LedgerRow {
  resource: string;
  page: number;
  outcome: string;
}

function ledgerOf(world: AisWorld) {
  return (consentId: string) =>
    withClient(
      world.bff.db.url,
      async (c) =>
        (await c.query('SELECT resource, page, outcome FROM ais_unattended_reads WHERE consent_id = $1 ORDER BY id', [consentId])).rows as LedgerRow[],
    );
}

/** A time `ms` from now, give or take `slackMs`. */
const about = (date: Date | undefined, ms: number, slackMs = 3 * 60_000) => {
  expect(date).toBeInstanceOf(Date);
  expect(date!.getTime()).toBeGreaterThan(Date.now() + ms - slackMs);
  expect(date!.getTime()).toBeLessThan(Date.now() + ms + slackMs);
};

describe('AIS budget, counted per call (Flowe): every unattended request is charged before it is sent', () => {
  let world: AisWorld;
  let alice: Connected;
  const api = () => request(world.bff.url);
  const refresher = () => world.bff.app.get(AisRefreshService);
  let ledger: ReturnType<typeof ledgerOf>;

  beforeAll(async () => {
    world = await startAisWorld();
    ledger = ledgerOf(world);
    alice = await connect(world.bff.url, 'alice', 'flowe');
  });
  afterAll(() => world.close());

  it('finishes a one-shot consent’s refresh (frequencyPerDay 1) in one call: the account list with its balances', async () => {
    const consentId = await validConsent(world, alice, { frequencyPerDay: 1, validUntil: utcDate() });
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: true, scope: 'partial', units: 1 });
    expect((await unattendedUses(world.sandbox.httpUrl, bankId)).map((r) => [r.route, r.status])).toEqual([['accounts', 200]]);
    const accounts = await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200);
    expect(accounts.body).toMatchObject({ source: 'storage', budget: { limit: 1, used: 1, remaining: 0 } });
    const balances = await api().get(`/api/v1/consents/${consentId}/accounts/${accounts.body.accounts[0].id}/balances`).set(auth(alice.token)).expect(200);
    expect(balances.body.source).toBe('storage');
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: false, reason: 'budget_spent', units: 0 });
    expect(await unattendedUses(world.sandbox.httpUrl, bankId)).toHaveLength(1);
  });

  it('refreshes with accounts?withBalance=true plus one transactions page, paces the next by the uses spent, and stops at frequencyPerDay', async () => {
    const consentId = await validConsent(world, alice);
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    const first = await refresher().refreshUnattended(consentId);
    expect(first).toEqual({ refreshed: true, scope: 'complete', units: 2, nextAllowedAt: expect.any(Date) });
    // Two of four uses spent: the next refresh half a day later (24 h / 4 per use).
    about(first.nextAllowedAt, 12 * HOUR_MS);
    expect((await unattendedUses(world.sandbox.httpUrl, bankId)).map((r) => [r.route, r.status])).toEqual([
      ['accounts', 200],
      ['transactions', 200],
    ]);
    expect(await ledger(consentId)).toEqual([
      { resource: '/accounts', page: 1, outcome: 'ok' },
      { resource: '/accounts/ACC01776B1BF60BC/transactions', page: 1, outcome: 'ok' },
    ]);

    // The balances came with the list: stored, no balances call; the answer says the budget and the next refresh.
    const accounts = await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200);
    expect(accounts.body).toMatchObject({
      source: 'storage',
      budget: { limit: 4, used: 2, remaining: 2, counting: 'per_call', nextUnitAt: expect.any(String) },
      nextRefreshAt: expect.any(String),
    });
    expect(accounts.body.warning).toBeUndefined();
    const accountId = accounts.body.accounts[0].id as string;
    const balances = await api().get(`/api/v1/consents/${consentId}/accounts/${accountId}/balances`).set(auth(alice.token)).expect(200);
    expect(balances.body).toMatchObject({ source: 'storage', balances: [{ balanceType: 'closingBooked' }, { balanceType: 'interimAvailable' }] });
    const consent = await api().get(`/api/v1/consents/${consentId}`).set(auth(alice.token)).expect(200);
    expect(consent.body).toMatchObject({ budget: { limit: 4, used: 2, remaining: 2, counting: 'per_call' }, nextRefreshAt: expect.any(String) });

    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: true, scope: 'complete', units: 2 });
    const spent = await refresher().refreshUnattended(consentId);
    expect(spent).toEqual({ refreshed: false, reason: 'budget_spent', units: 0, nextAllowedAt: expect.any(Date) });
    about(spent.nextAllowedAt, DAY_MS);
    const uses = await unattendedUses(world.sandbox.httpUrl, bankId);
    expect(uses).toHaveLength(4);
    expect(uses.every((r) => r.status === 200)).toBe(true);
    expect(await ledger(consentId)).toHaveLength(4);

    // The frontend still gets data: the stored copy, with a warning saying why and until when.
    const stored = await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200);
    expect(stored.body).toMatchObject({
      source: 'storage',
      budget: { used: 4, remaining: 0 },
      warning: { code: 'budget_spent', detail: expect.stringMatching(/4 background reads/), nextRefreshAt: expect.any(String) },
    });
    // Attended reads do not spend the budget and still work.
    const attended = await api().get(`/api/v1/consents/${consentId}/accounts?refresh=true`).set(auth(alice.token)).expect(200);
    expect(attended.body.source).toBe('bank');
    await api().get(`/api/v1/consents/${consentId}/accounts/${accountId}/transactions?refresh=true`).set(auth(alice.token)).expect(200);
    expect(await unattendedUses(world.sandbox.httpUrl, bankId)).toHaveLength(4);
    expect(await ledger(consentId)).toHaveLength(4);

    // 24 hours later on both sides, the budget is back; never a 429. Rows long past the window are pruned.
    await passTime(world, 86_400);
    await withClient(world.bff.db.url, (c) =>
      c.query("INSERT INTO ais_unattended_reads (consent_id, resource, page, read_at) VALUES ($1, '/accounts', 1, now() - interval '9 days')", [consentId]),
    );
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: true, scope: 'complete', units: 2 });
    expect(await ledger(consentId)).toHaveLength(6);
    expect((await aisReads(world.sandbox.httpUrl, bankId)).filter((r) => r.status === 429)).toEqual([]);
  });

  it('marks the budget spent on a bank 429 (for Retry-After at least), serves storage with a warning, and stops asking', async () => {
    const consentId = await validConsent(world, alice);
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200); // a stored copy exists
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'accounts', force429: true, retryAfterSeconds: 600, times: 1 });
    const limited = await refresher().refreshUnattended(consentId);
    expect(limited).toEqual({ refreshed: false, reason: 'rate_limited', units: 1, nextAllowedAt: expect.any(Date) });
    expect(limited.nextAllowedAt!.getTime()).toBeGreaterThanOrEqual(Date.now() + 590_000);
    const count = (await aisReads(world.sandbox.httpUrl, bankId)).length;
    // No retry within the window: nothing reaches the bank, nothing is charged.
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: false, reason: 'rate_limited', units: 0 });
    expect((await aisReads(world.sandbox.httpUrl, bankId)).length).toBe(count);
    expect(await ledger(consentId)).toEqual([{ resource: '/accounts', page: 1, outcome: 'rate_limited' }]);
    const stored = await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200);
    expect(stored.body).toMatchObject({
      source: 'storage',
      budget: { used: 1, remaining: 0 },
      warning: { code: 'rate_limited', nextRefreshAt: limited.nextAllowedAt!.toISOString() },
    });
    // The PSU in front of the app can still read now.
    await api().get(`/api/v1/consents/${consentId}/accounts?refresh=true`).set(auth(alice.token)).expect(200);
    expect(await scrape(world.bff.url)).toMatch(/^ais_unattended_429_total\{[^}]*aspsp="flowe"[^}]*\} [1-9]/m);
  });

  it('without Retry-After, a 429 blocks until our 24 h window rolls', async () => {
    const consentId = await validConsent(world, alice);
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'accounts', force429: true, times: 1 });
    const limited = await refresher().refreshUnattended(consentId);
    expect(limited).toMatchObject({ refreshed: false, reason: 'rate_limited' });
    about(limited.nextAllowedAt, DAY_MS);
    expect(await ledger(consentId)).toHaveLength(1);
  });

  it('never retries an unattended read: a 503 spends one use, reaches the bank once, and the next try is paced like a refresh', async () => {
    const consentId = await validConsent(world, alice);
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'accounts', errorRate: 1, errorStatus: 503, times: 3 });
    const failed = await refresher().refreshUnattended(consentId);
    expect(failed).toEqual({ refreshed: false, reason: 'failed', units: 1, nextAllowedAt: expect.any(Date) });
    // One use of four: a quarter of a day, so an outage cannot burn the day's budget in minutes.
    about(failed.nextAllowedAt, 6 * HOUR_MS);
    expect((await aisReads(world.sandbox.httpUrl, bankId)).filter((r) => r.route === 'accounts')).toHaveLength(1);
    expect(await ledger(consentId)).toEqual([{ resource: '/accounts', page: 1, outcome: 'failed' }]);
    await admin(world.sandbox.httpUrl, 'faults', undefined, 'DELETE');
  });

  it('charges nothing when no request reached the bank (the token could not be refreshed), and throws for the scheduler’s backoff', async () => {
    const consentId = await validConsent(world, alice);
    await withClient(world.bff.db.url, (c) =>
      c.query("UPDATE connections SET access_token_expires_at = now() - interval '1 minute' WHERE id = $1", [alice.connectionId]),
    );
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'token', errorRate: 1, errorStatus: 503 });
    try {
      await expect(refresher().refreshUnattended(consentId)).rejects.toMatchObject({
        name: 'BankError',
        aspspId: 'flowe',
        kind: expect.stringMatching(/^(transient|unavailable)$/),
      });
      expect(await ledger(consentId)).toEqual([]);
    } finally {
      await admin(world.sandbox.httpUrl, 'faults', undefined, 'DELETE');
    }
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: true, scope: 'complete', units: 2 });
  });

  it('does nothing for a consent that is not valid (no use, no bank call)', async () => {
    const consent = await createConsent(world.bff.url, alice);
    await expect(refresher().refreshUnattended(consent.id)).resolves.toEqual({ refreshed: false, reason: 'not_valid', units: 0 });
    expect(await ledger(consent.id)).toEqual([]);
    await expect(refresher().refreshUnattended('6f1c1f0e-9d7a-4a51-8d47-3b1b4c1d2e3f')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('settles the consent when the bank refused it during an unattended refresh', async () => {
    const consentId = await validConsent(world, alice);
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    await fetch(`${world.sandbox.httpUrl}/admin/consents/${bankId}/revoke`, { method: 'POST' });
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: false, reason: 'not_valid' });
    const view = await api().get(`/api/v1/consents/${consentId}`).set(auth(alice.token)).expect(200);
    expect(view.body).toMatchObject({ status: 'revokedByPsu', reconsentRequired: true });
  });

  it('publishes the budget per bank in /metrics: units spent and left, refreshes by outcome, 429s, unreconciled consents', async () => {
    const metrics = await scrape(world.bff.url);
    for (const name of ['ais_budget_units_spent_total', 'ais_budget_units_left', 'ais_unattended_429_total', 'ais_consents_unreconciled']) {
      for (const aspsp of ['flowe', 'connectpay']) expect(metrics).toMatch(new RegExp(`^${name}\\{[^}]*aspsp="${aspsp}"[^}]*\\} \\d+$`, 'm'));
    }
    expect(metrics).toMatch(/^ais_budget_units_spent_total\{[^}]*aspsp="flowe"[^}]*\} [1-9]\d*$/m);
    for (const outcome of ['complete', 'partial', 'budget_spent', 'rate_limited', 'not_valid', 'failed']) {
      expect(metrics).toMatch(new RegExp(`^ais_refreshes_total\\{[^}]*aspsp="flowe"[^}]*outcome="${outcome}"[^}]*\\} [1-9]\\d*$`, 'm'));
    }
    // Units left count only usable consents: one more valid consent adds its whole budget.
    const left = () => scrape(world.bff.url).then((m) => Number(/^ais_budget_units_left\{[^}]*aspsp="flowe"[^}]*\} (\d+)$/m.exec(m)![1]));
    const before = await left();
    await validConsent(world, alice, { frequencyPerDay: 3 });
    expect(await left()).toBe(before + 3);
  });
});

describe('AIS budget, counted per call: pages are uses', () => {
  let world: AisWorld;
  const refresher = () => world.bff.app.get(AisRefreshService);
  afterAll(() => world.close());

  it('charges each _links.next page and abandons a read the budget cannot finish, storing none of it', async () => {
    world = await startAisWorld({ sandbox: { transactionsPageSize: 2 } });
    const alice = await connect(world.bff.url, 'alice', 'flowe');
    const consentId = await validConsent(world, alice);
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: true, scope: 'partial', units: 4 });
    const uses = await unattendedUses(world.sandbox.httpUrl, bankId);
    expect(uses.map((r) => r.route)).toEqual(['accounts', 'transactions', 'transactions', 'transactions']);
    expect(uses.every((r) => r.status === 200)).toBe(true);
    expect((await ledgerOf(world)(consentId)).map((r) => [r.resource, r.page])).toEqual([
      ['/accounts', 1],
      ['/accounts/ACC01776B1BF60BC/transactions', 1],
      ['/accounts/ACC01776B1BF60BC/transactions', 2],
      ['/accounts/ACC01776B1BF60BC/transactions', 3],
    ]);
    // Half a read is not stored: the account stays the least recently refreshed.
    const stored = await withClient(world.bff.db.url, async (c) => (await c.query('SELECT count(*)::int AS n FROM ais_transactions')).rows[0].n as number);
    expect(stored).toBe(0);
  });
});

describe('AIS budget, counted per call: a bank that ignores withBalance', () => {
  let world: AisWorld;
  afterAll(() => world.close());

  it('reads the balances separately with the uses left after the transactions, and never past the budget', async () => {
    world = await startAisWorld({ sandbox: { modes: { flowe: { withBalance: 'ignored' } } } });
    const alice = await connect(world.bff.url, 'alice', 'flowe');
    const consentId = await validConsent(world, alice, { frequencyPerDay: 3 });
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    await expect(world.bff.app.get(AisRefreshService).refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: true, scope: 'complete', units: 3 });
    expect((await unattendedUses(world.sandbox.httpUrl, bankId)).map((r) => [r.route, r.status])).toEqual([
      ['accounts', 200],
      ['transactions', 200],
      ['balances', 200],
    ]);
    const accounts = await request(world.bff.url).get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200);
    const balances = await request(world.bff.url)
      .get(`/api/v1/consents/${consentId}/accounts/${accounts.body.accounts[0].id}/balances`)
      .set(auth(alice.token))
      .expect(200);
    expect(balances.body).toMatchObject({ source: 'storage', balances: [{ balanceType: 'closingBooked' }, { balanceType: 'interimAvailable' }] });
  });
});

describe('AIS budget, counted per call: the budget goes to the least recently refreshed accounts', () => {
  let world: AisWorld;
  const refresher = () => world.bff.app.get(AisRefreshService);
  afterAll(() => world.close());

  it('refreshes only the accounts the budget covers, least recently refreshed first, the rest first the next day', async () => {
    world = await startAisWorld();
    const carol = await connect(world.bff.url, 'carol', 'flowe');
    const consentId = await validConsent(world, carol, { frequencyPerDay: 3 });
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    const transactionReads = async () =>
      (await unattendedUses(world.sandbox.httpUrl, bankId)).filter((r) => r.route === 'transactions').map((r) => r.resourceId);
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: true, scope: 'partial', units: 3 });
    const [first, second, third] = ['ACC30D0D152D7257', 'ACC80F7CB3B9FDBB', 'ACC45A89A2CF6A9E'];
    expect(await transactionReads()).toEqual([first, second]);
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: false, reason: 'budget_spent' });
    await passTime(world, 86_400);
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: true, scope: 'partial', units: 3 });
    expect(await transactionReads()).toEqual([first, second, third, first]);
    expect((await unattendedUses(world.sandbox.httpUrl, bankId)).every((r) => r.status === 200)).toBe(true);
  });
});

describe('AIS budget: two replicas refreshing at once never overspend', () => {
  let world: AisWorld;
  afterAll(() => world.close());

  it('charges exactly frequencyPerDay uses among 12 concurrent refreshes on two apps sharing one database', async () => {
    world = await startAisWorld();
    const alice = await connect(world.bff.url, 'alice', 'connectpay');
    const consentId = await validConsent(world, alice, { frequencyPerDay: 3 });
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    const replica = await startTestBff(aisEnv(world.sandbox), { db: world.bff.db });
    try {
      const apps = [world.bff, replica].map((b) => b.app.get(AisRefreshService));
      const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => apps[i % 2]!.refreshUnattended(consentId)));
      expect(outcomes.reduce((n, o) => n + o.units, 0)).toBe(3);
      expect(outcomes.filter((o) => !o.refreshed).every((o) => o.reason === 'budget_spent')).toBe(true);
      const uses = await unattendedUses(world.sandbox.httpUrl, bankId);
      expect(uses).toHaveLength(3);
      expect(uses.every((r) => r.status === 200)).toBe(true);
      expect(await ledgerOf(world)(consentId)).toHaveLength(3);
    } finally {
      await replica.close();
    }
  });
});

describe('AIS budget configured per resource (FLOWE_AIS_BUDGET_COUNTING=per_resource)', () => {
  let world: AisWorld;
  const refresher = () => world.bff.app.get(AisRefreshService);
  afterAll(() => world.close());

  it('reads every resource once per refresh, frequencyPerDay times a day, against a bank that counts per resource', async () => {
    world = await startAisWorld({ sandbox: { modes: { flowe: { budgetCounting: 'per_resource' } } }, env: { FLOWE_AIS_BUDGET_COUNTING: 'per_resource' } });
    const carol = await connect(world.bff.url, 'carol', 'flowe');
    const consentId = await validConsent(world, carol, { frequencyPerDay: 2 });
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    const first = await refresher().refreshUnattended(consentId);
    expect(first).toMatchObject({ refreshed: true, scope: 'complete', units: 1 });
    about(first.nextAllowedAt, 12 * HOUR_MS);
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: true, scope: 'complete', units: 1 });
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: false, reason: 'budget_spent' });
    // Two reads of the list and of each account's transactions (a later page continues its read, uncounted), no 429.
    const uses = await unattendedUses(world.sandbox.httpUrl, bankId);
    expect(uses.every((r) => r.status === 200)).toBe(true);
    expect(uses.filter((r) => r.route === 'accounts')).toHaveLength(2);
    const reads = await withClient(
      world.bff.db.url,
      async (c) =>
        (await c.query('SELECT resource, count(*)::int AS n FROM ais_unattended_reads WHERE consent_id = $1 AND page = 1 GROUP BY resource', [consentId])).rows,
    );
    expect(reads).toHaveLength(4);
    expect(reads.every((r: { n: number }) => r.n === 2)).toBe(true);
  });

  it('meets the 429 against a bank that counts every call, which is why per_call is the default', async () => {
    await admin(world.sandbox.httpUrl, 'modes', { profile: 'flowe', budgetCounting: 'per_call' });
    const carol = await connect(world.bff.url, 'carol', 'flowe');
    const consentId = await validConsent(world, carol, { frequencyPerDay: 4 });
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: true, scope: 'complete' });
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: false, reason: 'rate_limited' });
    expect((await unattendedUses(world.sandbox.httpUrl, bankId)).map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
    // The 429 blocks the consent: no further unattended request until the window rolls.
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: false, reason: 'rate_limited', units: 0 });
    expect(await unattendedUses(world.sandbox.httpUrl, bankId)).toHaveLength(5);
  });
});
