import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { assertBerlinGroupResponse } from '../support/berlin-group-openapi.js';
import {
  accountsOf,
  advanceClock,
  bgClient,
  call,
  connectPayTokens,
  floweTokens,
  PSU_IP,
  setModes,
  startSandbox,
  validConsent,
  type HttpResult,
} from './helpers.js';

const attended = { 'PSU-IP-Address': PSU_IP };

describe('accounts, balances and transactions', () => {
  let sandbox: SandboxApp;
  let base: string;
  let token: string;
  let consentId: string;
  let account: { resourceId: string; iban: string };
  beforeAll(async () => {
    sandbox = await startSandbox();
    base = sandbox.httpUrl;
    token = (await floweTokens(base)).access;
    consentId = await validConsent(base, 'flowe', token);
    account = (await accountsOf(base, 'alice', 'flowe'))[0]!;
  });
  afterAll(() => sandbox.close());
  const get = (path: string, headers: Record<string, string> = {}) =>
    bgClient(base, 'flowe', token).get(path, { 'Consent-ID': consentId, ...attended, ...headers });

  it("lists the PSU's accounts with balances and transactions links", async () => {
    const res = await get('/accounts');
    expect(res.status).toBe(200);
    expect(res.body.accounts).toEqual([
      expect.objectContaining({
        resourceId: account.resourceId,
        iban: account.iban,
        currency: 'EUR',
        _links: {
          balances: { href: `/flowe/openbankingais/v1/accounts/${account.resourceId}/balances` },
          transactions: { href: `/flowe/openbankingais/v1/accounts/${account.resourceId}/transactions` },
        },
      }),
    ]);
    expect(account.iban).toMatch(/^IT\d{2}[A-Z]\d{10}\w{12}$/);
  });

  it('answers balances as strings: closingBooked and interimAvailable (Flowe)', async () => {
    const res = await get(`/accounts/${account.resourceId}/balances`);
    expect(res.body.balances.map((b: { balanceType: string }) => b.balanceType)).toEqual(['closingBooked', 'interimAvailable']);
    for (const b of res.body.balances) expect(b.balanceAmount.amount).toMatch(/^-?\d+\.\d{2}$/);
    assertBerlinGroupResponse('GET', '/v1/accounts/{account-id}/balances', 200, res.body);
  });

  it("answers 404 RESOURCE_UNKNOWN for an account that is not the PSU's", async () => {
    const bobs = (await accountsOf(base, 'bob', 'flowe'))[0]!;
    const res = await get(`/accounts/${bobs.resourceId}`);
    expect(res.status).toBe(404);
    expect(res.body.tppMessages[0].code).toBe('RESOURCE_UNKNOWN');
    assertBerlinGroupResponse('GET', '/v1/accounts/{account-id}', 404, res.body);
  });

  async function allPages(first: string): Promise<HttpResult[]> {
    const pages: HttpResult[] = [];
    let next: string | undefined = first;
    while (next !== undefined) {
      const page = await get(next);
      expect(page.status).toBe(200);
      pages.push(page);
      next = page.body.transactions._links.next?.href;
    }
    return pages;
  }

  it('pages transactions by 50 with _links.next until the end; pending ones have no bookingDate', async () => {
    const pages = await allPages(`/accounts/${account.resourceId}/transactions?bookingStatus=both&dateFrom=2000-01-01`);
    const booked = pages.flatMap((p) => p.body.transactions.booked);
    const pending = pages.flatMap((p) => p.body.transactions.pending);
    expect(booked).toHaveLength(300);
    expect(pending).toHaveLength(4);
    expect(pages).toHaveLength(7);
    for (const page of pages.slice(0, -1)) expect(page.body.transactions.booked.length + page.body.transactions.pending.length).toBe(50);
    expect(new Set([...booked, ...pending].map((t) => t.transactionId)).size).toBe(304);
    for (const t of pending) expect(t.bookingDate).toBeUndefined();
    for (const t of booked) {
      expect(t.bookingDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(t).toEqual(
        expect.objectContaining({
          valueDate: expect.any(String),
          creditorName: expect.any(String),
          debtorName: expect.any(String),
          remittanceInformationUnstructured: expect.any(String),
        }),
      );
      expect(t.creditorAccount.iban).toMatch(/^[A-Z]{2}\d{2}/);
      expect(t.debtorAccount.iban).toMatch(/^[A-Z]{2}\d{2}/);
    }
    const next = pages[0]!.body.transactions._links.next.href as string;
    expect(next).toMatch(
      new RegExp(
        `^/flowe/openbankingais/v1/accounts/${account.resourceId}/transactions\\?bookingStatus=both&dateFrom=2000-01-01&dateTo=\\d{4}-\\d{2}-\\d{2}&pageIndex=1&pageToken=[\\w-]+$`,
      ),
    );
    expect(pages[0]!.body.transactions._links.account.href).toBe(`/flowe/openbankingais/v1/accounts/${account.resourceId}`);
    expect(booked.map((t) => t.bookingDate)).toEqual([...booked.map((t) => t.bookingDate)].sort().reverse());
  });

  it('filters by bookingStatus and date range', async () => {
    const onlyBooked = await get(`/accounts/${account.resourceId}/transactions?bookingStatus=booked`);
    expect(onlyBooked.body.transactions.pending).toBeUndefined();
    const onlyPending = await get(`/accounts/${account.resourceId}/transactions?bookingStatus=pending`);
    expect(onlyPending.body.transactions.booked).toBeUndefined();
    expect(onlyPending.body.transactions.pending).toHaveLength(4);
    const from = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
    const recent = await allPages(`/accounts/${account.resourceId}/transactions?bookingStatus=booked&dateFrom=${from}`);
    const dates = recent.flatMap((p) => p.body.transactions.booked.map((t: { bookingDate: string }) => t.bookingDate));
    expect(dates.length).toBeGreaterThan(5);
    expect(dates.every((d) => d >= from)).toBe(true);
  });

  it.each([
    ['a missing bookingStatus', '', 'FORMAT_ERROR'],
    ['bookingStatus=information', 'bookingStatus=information', 'PARAMETER_NOT_SUPPORTED'],
    ['a malformed dateFrom', 'bookingStatus=both&dateFrom=01-01-2024', 'FORMAT_ERROR'],
    ['dateFrom after dateTo', 'bookingStatus=both&dateFrom=2024-02-01&dateTo=2024-01-01', 'PERIOD_INVALID'],
    ['deltaList', 'bookingStatus=both&deltaList=true', 'PARAMETER_NOT_SUPPORTED'],
    ['an unknown pageToken', 'bookingStatus=both&pageIndex=1&pageToken=nope', 'FORMAT_ERROR'],
  ])('refuses %s', async (_, query, expectedCode) => {
    const res = await get(`/accounts/${account.resourceId}/transactions?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.tppMessages[0].code).toBe(expectedCode);
    assertBerlinGroupResponse('GET', '/v1/accounts/{account-id}/transactions', 400, res.body);
  });

  it('honours transactionsPageSize', async () => {
    const small = await startSandbox({ transactionsPageSize: 10 });
    try {
      const t = (await connectPayTokens(small.httpUrl)).access;
      const id = await validConsent(small.httpUrl, 'connectpay', t, { access: { allPsd2: 'allAccounts' } });
      const acc = (await accountsOf(small.httpUrl, 'alice', 'connectpay'))[0]!;
      const page = await bgClient(small.httpUrl, 'connectpay', t).get(`/accounts/${acc.resourceId}/transactions?bookingStatus=booked`, {
        'Consent-ID': id,
        ...attended,
      });
      expect(page.body.transactions.booked).toHaveLength(10);
      expect(page.body.transactions._links.next.href).toContain('/connectpay/psd2/v1/accounts/');
    } finally {
      await small.close();
    }
  });
});

describe('unattended access budget, per_resource counting (frequencyPerDay, rolling 24 h)', () => {
  let sandbox: SandboxApp;
  let base: string;
  let token: string;
  let account: { resourceId: string };
  beforeEach(async () => {
    sandbox = await startSandbox({ accessTokenTtlSeconds: 3 * 86_400 });
    base = sandbox.httpUrl;
    token = (await floweTokens(base)).access;
    account = (await accountsOf(base, 'alice', 'flowe'))[0]!;
  });
  afterEach(() => sandbox.close());
  const api = () => bgClient(base, 'flowe', token);

  it('answers 429 ACCESS_EXCEEDED after frequencyPerDay unattended reads of one resource, and again after 24 h', async () => {
    await setModes(base, 'flowe', { budgetCounting: 'per_resource' });
    const consentId = await validConsent(base, 'flowe', token, { frequencyPerDay: 2 });
    const read = () => api().get('/accounts', { 'Consent-ID': consentId });
    expect((await read()).status).toBe(200);
    expect((await read()).status).toBe(200);
    const third = await read();
    expect(third.status).toBe(429);
    expect(third.body.tppMessages[0].code).toBe('ACCESS_EXCEEDED');
    assertBerlinGroupResponse('GET', '/v1/accounts', 429, third.body);
    // Another resource has its own budget.
    expect((await api().get(`/accounts/${account.resourceId}/balances`, { 'Consent-ID': consentId })).status).toBe(200);
    await advanceClock(base, 24 * 3600 - 60);
    expect((await read()).status).toBe(429);
    await advanceClock(base, 61);
    expect((await read()).status).toBe(200);
  });

  it("never limits attended reads (PSU-IP-Address, or the guide's PSU-IpAddress)", async () => {
    const consentId = await validConsent(base, 'flowe', token, { frequencyPerDay: 1 });
    expect((await api().get('/accounts', { 'Consent-ID': consentId })).status).toBe(200);
    expect((await api().get('/accounts', { 'Consent-ID': consentId })).status).toBe(429);
    for (let i = 0; i < 5; i++) expect((await api().get('/accounts', { 'Consent-ID': consentId, ...attended })).status).toBe(200);
    expect((await api().get('/accounts', { 'Consent-ID': consentId, 'PSU-IpAddress': PSU_IP })).status).toBe(200);
    expect((await api().get('/accounts', { 'Consent-ID': consentId })).status).toBe(429);
  });

  it('counts one transaction read once, however many next pages it follows', async () => {
    await setModes(base, 'flowe', { budgetCounting: 'per_resource' });
    const consentId = await validConsent(base, 'flowe', token, { frequencyPerDay: 1 });
    let next: string | undefined = `/accounts/${account.resourceId}/transactions?bookingStatus=both&dateFrom=2000-01-01`;
    let pages = 0;
    while (next !== undefined) {
      const page = await api().get(next, { 'Consent-ID': consentId });
      expect(page.status).toBe(200);
      next = page.body.transactions._links.next?.href;
      pages++;
    }
    expect(pages).toBeGreaterThan(5);
    const again = await api().get(`/accounts/${account.resourceId}/transactions?bookingStatus=both`, { 'Consent-ID': consentId });
    expect(again.status).toBe(429);
    const log = await call(`${base}/admin/requests?profile=flowe&route=transactions`);
    expect(log.body.requests.map((r: { status: number }) => r.status)).toEqual([...Array(pages).fill(200), 429]);
  });

  it('does not accept a page token with another consent', async () => {
    const first = await validConsent(base, 'flowe', token);
    const second = await validConsent(base, 'flowe', token);
    const page = await api().get(`/accounts/${account.resourceId}/transactions?bookingStatus=both&dateFrom=2000-01-01`, { 'Consent-ID': first });
    const res = await api().get(page.body.transactions._links.next.href, { 'Consent-ID': second });
    expect(res.status).toBe(400);
    expect(res.body.tppMessages[0].path).toBe('pageToken');
  });
});
