import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import request from 'supertest';
import { AspspRegistry } from '../../src/aspsp/aspsp.registry.js';
import { MetricsService } from '../../src/common/metrics/metrics.service.js';
import { addDays, utcDate } from '../../src/aspsp/berlin-group/dates.js';
import { sandboxLogin } from '../support/bank-login.js';
import { startTestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';
import { admin, aisEnv, aisReads, auth, bankConsentIdOf, connect, decide, startAisWorld, validConsent, type AisWorld, type Connected } from './support.js';
import { accessTokenOf } from '../support/bank-world.js';

const FLOWE_IBAN = 'IT16N3677201600000000410001';
const PAGE_SIZE = 20;

describe('AIS data: accounts, balances and transactions, stored and attended', () => {
  let world: AisWorld;
  let alice: Connected;
  let consentId: string;
  let bankConsentId: string;
  let accountId: string;
  const api = () => request(world.bff.url);
  const today = utcDate();

  beforeAll(async () => {
    // Settlement a second after approval, with no cut-off to wait for (the default Flowe clears every minute).
    world = await startAisWorld({ sandbox: { transactionsPageSize: PAGE_SIZE, settlementSeconds: 1, modes: { flowe: { cutoffTimes: [] } } } });
    alice = await connect(world.bff.url, 'alice', 'flowe');
    consentId = await validConsent(world, alice);
    bankConsentId = await bankConsentIdOf(world.bff.db, consentId);
  });
  afterAll(() => world.close());

  const storedTransactionCount = () =>
    withClient(
      world.bff.db.url,
      async (c) => (await c.query('SELECT count(*)::int AS n FROM ais_transactions WHERE account_id = $1', [accountId])).rows[0].n as number,
    );

  it('reads the accounts from the bank the first time (attended, with the PSU’s IP), then serves the stored copy', async () => {
    const first = await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200);
    expect(first.body).toMatchObject({ consentId, source: 'bank', accounts: [{ iban: FLOWE_IBAN, currency: 'EUR', name: expect.any(String) }] });
    expect(first.body.warning).toBeUndefined();
    accountId = first.body.accounts[0].id;
    expect(accountId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(first.body)).not.toContain('ACC01776B1BF60BC'); // the bank's resourceId stays inside
    const reads = await aisReads(world.sandbox.httpUrl, bankConsentId);
    expect(reads).toEqual([expect.objectContaining({ route: 'accounts', status: 200, psuIpPresent: true, psuIp: '127.0.0.1' })]);

    const metrics = world.bff.app.get(MetricsService);
    const statements = async () => (await metrics.dbQueries.get()).values[0]?.value ?? 0;
    const before = await statements();
    const second = await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200);
    // A stored read is one statement: ownership, consent, accounts, budget and refresh plan together.
    expect((await statements()) - before).toBe(1);
    expect(second.body).toEqual({ ...first.body, source: 'storage', budget: second.body.budget });
    expect(second.body.budget).toEqual(first.body.budget);
    expect(await aisReads(world.sandbox.httpUrl, bankConsentId)).toHaveLength(1);
    expect(second.headers['cache-control']).toBe('no-store');
  });

  it('re-reads stored accounts from the bank (attended) in two statements', async () => {
    const metrics = world.bff.app.get(MetricsService);
    const statements = async () => (await metrics.dbQueries.get()).values[0]?.value ?? 0;
    const stored = (await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200)).body;
    const reads = (await aisReads(world.sandbox.httpUrl, bankConsentId)).length;
    const before = await statements();
    const again = await api().get(`/api/v1/consents/${consentId}/accounts?refresh=true`).set(auth(alice.token)).expect(200);
    // One read (ownership, consent, connection, what is stored), one write that answers (the bank listed what is stored: only the read is stamped).
    expect((await statements()) - before).toBe(2);
    expect(again.body).toEqual({ ...stored, source: 'bank', fetchedAt: again.body.fetchedAt, budget: stored.budget });
    expect(new Date(again.body.fetchedAt).getTime()).toBeGreaterThan(new Date(stored.fetchedAt).getTime());
    const calls = await aisReads(world.sandbox.httpUrl, bankConsentId);
    expect(calls).toHaveLength(reads + 1);
    expect(calls.at(-1)).toMatchObject({ route: 'accounts', status: 200, psuIpPresent: true });
    const after = await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200);
    expect(after.body).toEqual({ ...again.body, source: 'storage' });
  });

  it('reads balances as decimal strings and serves them from storage afterwards', async () => {
    const res = await api().get(`/api/v1/consents/${consentId}/accounts/${accountId}/balances`).set(auth(alice.token)).expect(200);
    expect(res.body).toMatchObject({ accountId, source: 'bank' });
    expect(res.body.balances.map((b: { balanceType: string }) => b.balanceType)).toEqual(['closingBooked', 'interimAvailable']);
    for (const b of res.body.balances) {
      expect(typeof b.balanceAmount.amount).toBe('string');
      expect(b.balanceAmount).toEqual({ amount: expect.stringMatching(/^-?\d+\.\d{2}$/), currency: 'EUR' });
    }
    const stored = await api().get(`/api/v1/consents/${consentId}/accounts/${accountId}/balances`).set(auth(alice.token)).expect(200);
    expect(stored.body).toMatchObject({ source: 'storage', balances: res.body.balances, fetchedAt: res.body.fetchedAt });
  });

  it('reads every page of a multi-page history by following _links.next, each page attended', async () => {
    const before = (await aisReads(world.sandbox.httpUrl, bankConsentId)).length;
    const dateFrom = addDays(today, -400);
    const res = await api()
      .get(`/api/v1/consents/${consentId}/accounts/${accountId}/transactions?dateFrom=${dateFrom}&limit=1000`)
      .set(auth(alice.token))
      .expect(200);
    expect(res.body).toMatchObject({ accountId, source: 'bank', dateFrom, dateTo: today, bookingStatus: 'both', total: 304 });
    expect(res.body.transactions.booked).toHaveLength(300);
    expect(res.body.transactions.pending).toHaveLength(4);
    const pages = (await aisReads(world.sandbox.httpUrl, bankConsentId)).slice(before);
    expect(pages).toHaveLength(Math.ceil(304 / PAGE_SIZE));
    expect(pages.every((p) => p.route === 'transactions' && p.status === 200 && p.psuIpPresent)).toBe(true);
    const booked = res.body.transactions.booked;
    expect(booked[0]).toMatchObject({ bookingStatus: 'booked', transactionAmount: { amount: expect.stringMatching(/^-?\d+\.\d{2}$/), currency: 'EUR' } });
    // newest first
    const dates = booked.map((t: { bookingDate: string }) => t.bookingDate);
    expect([...dates].sort().reverse()).toEqual(dates);
    expect(new Set(booked.map((t: { id: string }) => t.id)).size).toBe(300);
    expect(await storedTransactionCount()).toBe(304);
  });

  it('re-reads without duplicating a single row and keeps every id', async () => {
    const dateFrom = addDays(today, -400);
    const path = `/api/v1/consents/${consentId}/accounts/${accountId}/transactions?dateFrom=${dateFrom}&limit=1000`;
    const before = await api().get(path).set(auth(alice.token)).expect(200);
    expect(before.body.source).toBe('storage');
    const again = await api().get(`${path}&refresh=true`).set(auth(alice.token)).expect(200);
    expect(again.body.source).toBe('bank');
    expect(again.body.total).toBe(304);
    expect(await storedTransactionCount()).toBe(304);
    expect(again.body.transactions.booked.map((t: { id: string }) => t.id)).toEqual(before.body.transactions.booked.map((t: { id: string }) => t.id));
  });

  it('filters the stored copy by bookingStatus and dates, and pages with limit and offset, without calling the bank', async () => {
    const before = (await aisReads(world.sandbox.httpUrl, bankConsentId)).length;
    const base = `/api/v1/consents/${consentId}/accounts/${accountId}/transactions`;
    const pending = await api().get(`${base}?bookingStatus=pending`).set(auth(alice.token)).expect(200);
    expect(pending.body.transactions).toMatchObject({ booked: [], pending: expect.any(Array) });
    expect(pending.body.transactions.pending).toHaveLength(4);
    const dateFrom = addDays(today, -60);
    const dateTo = addDays(today, -30);
    const window = await api().get(`${base}?bookingStatus=booked&dateFrom=${dateFrom}&dateTo=${dateTo}`).set(auth(alice.token)).expect(200);
    expect(window.body.total).toBeGreaterThan(5);
    for (const t of window.body.transactions.booked) {
      expect(t.bookingDate >= dateFrom && t.bookingDate <= dateTo).toBe(true);
    }
    const page1 = await api().get(`${base}?bookingStatus=booked&dateFrom=${dateFrom}&dateTo=${dateTo}&limit=3`).set(auth(alice.token)).expect(200);
    const page2 = await api().get(`${base}?bookingStatus=booked&dateFrom=${dateFrom}&dateTo=${dateTo}&limit=3&offset=3`).set(auth(alice.token)).expect(200);
    expect([...page1.body.transactions.booked, ...page2.body.transactions.booked]).toEqual(window.body.transactions.booked.slice(0, 6));
    expect(page1.body).toMatchObject({ limit: 3, offset: 0, total: window.body.total, source: 'storage' });
    expect((await aisReads(world.sandbox.httpUrl, bankConsentId)).length).toBe(before);
  });

  it.each([
    ['dateFrom after dateTo', `dateFrom=${addDays(utcDate(), -1)}&dateTo=${addDays(utcDate(), -2)}`, ['dateFrom']],
    ['malformed dates', 'dateFrom=2024-13-01&dateTo=yesterday', ['dateFrom', 'dateTo']],
    ['an unknown bookingStatus', 'bookingStatus=all', ['bookingStatus']],
    ['a bad refresh flag and limit', 'refresh=yes&limit=0', ['limit', 'refresh']],
    ['an unknown parameter', 'deltaList=true', ['deltaList']],
    ['a repeated parameter', 'dateFrom=2025-01-01&dateFrom=2025-01-02', ['dateFrom']],
  ])('answers 400 for %s, naming each bad field', async (_name, query, fields) => {
    const res = await api().get(`/api/v1/consents/${consentId}/accounts/${accountId}/transactions?${query}`).set(auth(alice.token)).expect(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect([...new Set(res.body.errors.map((e: { field: string }) => e.field))].sort()).toEqual(fields);
  });

  it('never answers 5xx to random query strings, and every error is problem+json', async () => {
    const value = fc.oneof(
      fc.constantFrom('0000-01-01', '9999-12-31', '1e9', '-1', '', '..%2f', '2024-02-29', 'true', 'both', '__proto__'),
      fc.string({ maxLength: 20 }),
    );
    const key = fc.constantFrom('dateFrom', 'dateTo', 'bookingStatus', 'limit', 'offset', 'refresh', 'x');
    await fc.assert(
      fc.asyncProperty(fc.dictionary(key, value, { maxKeys: 4 }), async (query) => {
        const qs = new URLSearchParams(query).toString().replace(/refresh=true/, 'refresh=false');
        const res = await api().get(`/api/v1/consents/${consentId}/accounts/${accountId}/transactions?${qs}`).set(auth(alice.token));
        expect(res.status).toBeLessThan(500);
        expect(res.headers['content-type']).toMatch(res.status >= 400 ? /application\/problem\+json/ : /application\/json/);
      }),
      { numRuns: 150 },
    );
  });

  it('answers 404 for an account the consent does not reach and for another user’s consent, 400 for malformed ids', async () => {
    await api().get(`/api/v1/consents/${consentId}/accounts/${randomUUID()}/balances`).set(auth(alice.token)).expect(404);
    const bob = await connect(world.bff.url, 'bob', 'flowe');
    const bobConsent = await validConsent(world, bob);
    const bobAccount = (await api().get(`/api/v1/consents/${bobConsent}/accounts`).set(auth(bob.token)).expect(200)).body.accounts[0].id as string;
    // Bob's account through Alice's consent, and Alice's consent as Bob: not found, nothing read.
    await api().get(`/api/v1/consents/${consentId}/accounts/${bobAccount}/transactions`).set(auth(alice.token)).expect(404);
    await api().get(`/api/v1/consents/${consentId}/accounts/${accountId}/transactions`).set(auth(bob.token)).expect(404);
    await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(bob.token)).expect(404);
    await api().get(`/api/v1/consents/${consentId}/accounts/%2e%2e/balances`).set(auth(alice.token)).expect(400);
    await api().get('/api/v1/consents/not-a-uuid/accounts').set(auth(alice.token)).expect(400);
  });

  it('answers 5xx naming the bank when an attended read fails (after bounded retries), and a 429 with the bank’s code when nothing is stored', async () => {
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'balances', errorRate: 1, errorStatus: 500, times: 3 });
    const before = (await aisReads(world.sandbox.httpUrl, bankConsentId)).length;
    const failed = await api().get(`/api/v1/consents/${consentId}/accounts/${accountId}/balances?refresh=true`).set(auth(alice.token)).expect(503);
    expect(failed.body).toMatchObject({ code: 'bank_unavailable', aspspId: 'flowe' });
    expect(failed.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await aisReads(world.sandbox.httpUrl, bankConsentId)).length - before).toBe(3);
    // The stored copy is untouched.
    expect((await api().get(`/api/v1/consents/${consentId}/accounts/${accountId}/balances`).set(auth(alice.token)).expect(200)).body.balances).toHaveLength(2);

    const fresh = await validConsent(world, alice);
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'accounts', force429: true, retryAfterSeconds: 30, times: 1 });
    const limited = await api().get(`/api/v1/consents/${fresh}/accounts`).set(auth(alice.token)).expect(503);
    expect(limited.body).toMatchObject({ code: 'bank_rate_limited', aspspId: 'flowe', bankCode: 'ACCESS_EXCEEDED', retryAfterSeconds: 30 });
    expect(limited.headers['retry-after']).toBe('30');
    await admin(world.sandbox.httpUrl, 'faults', undefined, 'DELETE');
  });

  it('answers 409 with the status for a consent that is not valid yet', async () => {
    const created = await request(world.bff.url).post(`/api/v1/connections/${alice.connectionId}/consents`).set(auth(alice.token)).expect(201);
    const res = await api().get(`/api/v1/consents/${created.body.id}/accounts`).set(auth(alice.token)).expect(409);
    expect(res.body).toMatchObject({ code: 'consent_not_valid', consentStatus: 'received', reconsentRequired: false });
  });

  it('reflects pending → booked on the same row (a sandbox payment settling)', async () => {
    const token = await accessTokenOf(world.bff, alice.connectionId);
    // Straight to the bank (over the BFF's mutual TLS client), as another app of the PSU would pay.
    const payment = await world.bff.app
      .get(AspspRegistry)
      .get('flowe')
      .api.call<{ paymentId: string }>({
        method: 'POST',
        operation: 'payment',
        service: 'pis',
        path: '/payments/sepa-credit-transfers',
        accessToken: token,
        psuIpAddress: '127.0.0.1',
        json: {
          debtorAccount: { iban: FLOWE_IBAN },
          creditorAccount: { iban: 'IT60X0542811101000000123456' },
          creditorName: 'Mario Verdi',
          instructedAmount: { currency: 'EUR', amount: '12.34' },
        },
      });
    expect(payment.status).toBe(201);
    const paymentId = payment.body.paymentId;
    await decide(world.sandbox.httpUrl, 'payment', paymentId, 'approve');
    const find = (body: { transactions: { booked: { transactionId?: string }[]; pending: { transactionId?: string }[] } }) =>
      [...body.transactions.pending, ...body.transactions.booked].filter((t) => t.transactionId === paymentId);
    const path = `/api/v1/consents/${consentId}/accounts/${accountId}/transactions?refresh=true&dateFrom=${addDays(today, -5)}`;
    const whilePending = await api().get(path).set(auth(alice.token)).expect(200);
    expect(find(whilePending.body)).toEqual([expect.objectContaining({ bookingStatus: 'pending', transactionAmount: { amount: '-12.34', currency: 'EUR' } })]);
    const count = await storedTransactionCount();
    await new Promise((resolve) => setTimeout(resolve, 1100)); // settlementSeconds: 1
    const settled = await api().get(path).set(auth(alice.token)).expect(200);
    const [booked] = find(settled.body) as { id: string; bookingStatus: string; bookingDate: string }[];
    expect(booked).toMatchObject({ id: (find(whilePending.body)[0] as { id: string }).id, bookingStatus: 'booked', bookingDate: expect.any(String) });
    expect(await storedTransactionCount()).toBe(count);
  });

  it('maps a re-consent (new consent, new bank resourceIds) to the same accounts and their stored history', async () => {
    const before = (await api().get(`/api/v1/consents/${consentId}/accounts/${accountId}/transactions?limit=1000`).set(auth(alice.token)).expect(200)).body;
    await api().delete(`/api/v1/consents/${consentId}`).set(auth(alice.token)).expect(200);
    const renewed = await validConsent(world, alice);
    // The bank hands out different resourceIds with the new consent.
    await withClient(world.bff.db.url, (c) =>
      c.query("UPDATE ais_consent_accounts SET resource_id = 'OLD-' || resource_id WHERE consent_id = $1", [consentId]),
    );
    const accounts = await api().get(`/api/v1/consents/${renewed}/accounts`).set(auth(alice.token)).expect(200);
    expect(accounts.body.accounts.map((a: { id: string }) => a.id)).toEqual([accountId]);
    const stored = await api().get(`/api/v1/consents/${renewed}/accounts/${accountId}/transactions?limit=1000`).set(auth(alice.token)).expect(200);
    expect(stored.body).toMatchObject({ source: 'storage', total: before.total, fetchedAt: before.fetchedAt });
    const accountsRows = await withClient(
      world.bff.db.url,
      async (c) => (await c.query('SELECT count(*)::int AS n FROM ais_accounts WHERE iban = $1', [FLOWE_IBAN])).rows[0].n,
    );
    expect(accountsRows).toBe(1);
    // The old consent no longer serves anything.
    await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(409);
  });

  it('documents every AIS route in /docs-json', async () => {
    const doc = (await api().get('/docs-json').expect(200)).body as { paths: Record<string, unknown> };
    for (const path of [
      '/api/v1/connections/{id}/consents',
      '/api/v1/consents/{id}',
      '/api/v1/consents/{consentId}/accounts',
      '/api/v1/consents/{consentId}/accounts/{accountId}/balances',
      '/api/v1/consents/{consentId}/accounts/{accountId}/transactions',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });
});

describe('AIS data: the PSU-IP-Address is the client’s real IP', () => {
  let world: AisWorld;
  afterAll(() => world.close());

  it('ignores a spoofed X-Forwarded-For from an untrusted hop, and believes it only behind a trusted proxy', async () => {
    world = await startAisWorld();
    const alice = await connect(world.bff.url, 'alice', 'connectpay');
    const consentId = await validConsent(world, alice);
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    await request(world.bff.url)
      .get(`/api/v1/consents/${consentId}/accounts?refresh=true`)
      .set(auth(alice.token))
      .set('X-Forwarded-For', '198.51.100.66')
      .expect(200);
    expect((await aisReads(world.sandbox.httpUrl, bankId)).at(-1)).toMatchObject({ psuIpPresent: true, psuIp: '127.0.0.1' });

    const behindProxy = await startTestBff(aisEnv(world.sandbox, { TRUST_PROXY: 'loopback' }), { db: world.bff.db });
    try {
      const token = await sandboxLogin(behindProxy.url, 'alice');
      await request(behindProxy.url)
        .get(`/api/v1/consents/${consentId}/accounts?refresh=true`)
        .set(auth(token))
        .set('X-Forwarded-For', '198.51.100.66')
        .expect(200);
      expect((await aisReads(world.sandbox.httpUrl, bankId)).at(-1)).toMatchObject({ psuIpPresent: true, psuIp: '198.51.100.66' });
    } finally {
      await behindProxy.close();
    }
  });
});
