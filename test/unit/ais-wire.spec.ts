import { parseAccounts, parseBalances, parseConsentCreated, parseTransactionsPage, toConsentStatus } from '../../src/aspsp/berlin-group/ais-wire.js';
import { BerlinGroupAis } from '../../src/aspsp/berlin-group/ais.js';
import { BerlinGroupClient } from '../../src/aspsp/berlin-group/berlin-group.client.js';
import { addDays, utcDate } from '../../src/aspsp/berlin-group/dates.js';
import { ConnectPayAdapter } from '../../src/aspsp/connectpay/connectpay.adapter.js';
import { FloweAdapter } from '../../src/aspsp/flowe/flowe.adapter.js';
import type { BankHttpClient, BankRequest, BankResponse } from '../../src/aspsp/http/bank-http.client.js';
import type { BankConfig } from '../../src/config/banks.config.js';
import { assertBerlinGroupRequest, assertBerlinGroupResponse } from '../support/berlin-group-openapi.js';
import { testBank } from './support/bank-config.js';

const today = utcDate();

function bank(id: string, adapter: 'flowe' | 'connectpay'): BankConfig {
  return testBank({ id, name: id === 'flowe' ? 'Flowe' : 'ConnectPay', adapter });
}

/** A bank HTTP client that answers from a script and records what was sent; no network. */
function scripted(answers: Record<string, unknown>): { http: BankHttpClient; sent: BankRequest[] } {
  const sent: BankRequest[] = [];
  const http = {
    send: async (req: BankRequest): Promise<BankResponse> => {
      sent.push(req);
      const body = answers[new URL(req.url).pathname + new URL(req.url).search];
      if (body === undefined) throw new Error(`unexpected request ${req.url}`);
      return { status: 200, headers: {}, body };
    },
  } as unknown as BankHttpClient;
  return { http, sent };
}

describe('AIS consent rules per bank', () => {
  const flowe = new FloweAdapter(bank('flowe', 'flowe'), {} as BankHttpClient);
  const connectpay = new ConnectPayAdapter(bank('connectpay', 'connectpay'), {} as BankHttpClient);

  it('builds Berlin Group consent bodies: Flowe global consent, ConnectPay allPsd2', () => {
    const flowBody = flowe.consentBody(flowe.consentTerms({}, today));
    expect(flowBody).toEqual({
      access: { availableAccounts: 'allAccounts', allPsd2: 'allAccounts' },
      recurringIndicator: true,
      validUntil: addDays(today, 90),
      frequencyPerDay: 4,
      combinedServiceIndicator: false,
    });
    assertBerlinGroupRequest('POST', '/v1/consents', flowBody);
    const cpBody = connectpay.consentBody(connectpay.consentTerms({ recurringIndicator: false }, today));
    expect(cpBody).toEqual({
      access: { allPsd2: 'allAccounts' },
      recurringIndicator: false,
      validUntil: today,
      frequencyPerDay: 1,
      combinedServiceIndicator: false,
    });
    assertBerlinGroupRequest('POST', '/v1/consents', cpBody);
  });

  it('names each broken Flowe rule (guide 4.1 a–c)', () => {
    const errors = flowe.validateConsent({ recurringIndicator: false, validUntil: addDays(today, 91), frequencyPerDay: 5 }, today);
    expect(errors.map((e) => e.field).sort()).toEqual(['frequencyPerDay', 'frequencyPerDay', 'recurringIndicator', 'validUntil']);
    expect(flowe.validateConsent({ recurringIndicator: true, validUntil: today, frequencyPerDay: 1 }, today)).toEqual([]);
    expect(flowe.validateConsent({ recurringIndicator: true, validUntil: addDays(today, 90), frequencyPerDay: 4 }, today)).toEqual([]);
  });

  it('caps a long ConnectPay consent at 90 days instead of refusing it, and refuses the past', () => {
    expect(connectpay.consentTerms({ validUntil: '9999-12-31' }, today).validUntil).toBe(addDays(today, 90));
    expect(connectpay.validateConsent({ recurringIndicator: true, validUntil: addDays(today, -1), frequencyPerDay: 4 }, today)).toEqual([
      { field: 'validUntil', message: expect.stringMatching(/past/) },
    ]);
  });
});

describe('AIS wire: what the bank sends is checked at the edge', () => {
  it('reads accounts, balances and transactions that match the Berlin Group definition', () => {
    const accounts = {
      accounts: [
        {
          resourceId: 'ACC1',
          iban: 'it16 n367 7201 6000 0000 0410 001',
          currency: 'EUR',
          name: 'Conto',
          _links: { balances: { href: '/v1/accounts/ACC1/balances' } },
        },
      ],
    };
    assertBerlinGroupResponse('GET', '/v1/accounts', 200, { accounts: [{ ...accounts.accounts[0], iban: 'IT16N3677201600000000410001' }] });
    expect(parseAccounts('flowe', accounts)[0]).toMatchObject({ resourceId: 'ACC1', iban: 'IT16N3677201600000000410001', currency: 'EUR' });
    const balances = { balances: [{ balanceType: 'closingBooked', balanceAmount: { currency: 'EUR', amount: '10.50' }, referenceDate: today }] };
    assertBerlinGroupResponse('GET', '/v1/accounts/{account-id}/balances', 200, balances);
    expect(parseBalances('flowe', balances)).toEqual([
      { balanceType: 'closingBooked', amount: '10.50', currency: 'EUR', referenceDate: today, lastChangeDateTime: undefined },
    ]);
  });

  it.each(['1e5', '+1', '0x10', ' 1.00', '1.0005', '12.', '.5', '1,00', '10.50\n'])(
    'refuses the amount %j (the spec’s pattern is unanchored; ours is not)',
    (amount) => {
      expect(() => parseBalances('flowe', { balances: [{ balanceType: 'closingBooked', balanceAmount: { currency: 'EUR', amount } }] })).toThrow(/malformed/);
      expect(() => parseTransactionsPage('flowe', { transactions: { booked: [{ transactionAmount: { currency: 'EUR', amount } }] } })).toThrow(/malformed/);
    },
  );

  it('reads the balances an account list carries (withBalance=true), and refuses malformed ones', () => {
    const balance = { balanceType: 'closingBooked', balanceAmount: { currency: 'EUR', amount: '10.50' } };
    const list = {
      accounts: [
        { resourceId: 'ACC1', iban: 'IT16N3677201600000000410001', currency: 'EUR', balances: [balance] },
        { resourceId: 'ACC2', currency: 'EUR' },
      ],
    };
    assertBerlinGroupResponse('GET', '/v1/accounts', 200, list);
    const [withBalances, without] = parseAccounts('flowe', list);
    expect(withBalances!.balances).toEqual([
      { balanceType: 'closingBooked', amount: '10.50', currency: 'EUR', referenceDate: undefined, lastChangeDateTime: undefined },
    ]);
    expect(without!.balances).toBeUndefined();
    expect(() =>
      parseAccounts('flowe', {
        accounts: [{ resourceId: 'ACC1', currency: 'EUR', balances: [{ ...balance, balanceAmount: { currency: 'EUR', amount: '1e5' } }] }],
      }),
    ).toThrow(/malformed/);
  });

  it('keeps the consent id of a creation answer whose status it cannot read, and reads both the guide’s and the spec’s answer', () => {
    expect(
      parseConsentCreated('flowe', {
        consentId: 'AAACT20143X9S9GJ6M',
        _links: { status: { href: '/v1/consents/AAACT20143X9S9GJ6M/status' } },
        consentStatus: 'received',
      }),
    ).toEqual({ consentId: 'AAACT20143X9S9GJ6M', status: 'received' });
    expect(parseConsentCreated('flowe', { consentId: 'C1', consentStatus: 'approvedSomehow' })).toEqual({ consentId: 'C1', status: undefined });
    expect(() => parseConsentCreated('flowe', { consentStatus: 'received' })).toThrow(expect.objectContaining({ kind: 'unexpected' }));
  });

  it('refuses unknown consent statuses and malformed lists with an `unexpected` bank error', () => {
    expect(toConsentStatus('flowe', 'partiallyAuthorised')).toBe('received');
    expect(() => toConsentStatus('flowe', 'approved')).toThrow(expect.objectContaining({ kind: 'unexpected', aspspId: 'flowe' }));
    expect(() => parseAccounts('flowe', { accounts: 'all' })).toThrow(expect.objectContaining({ kind: 'unexpected' }));
    expect(() => parseAccounts('flowe', { accounts: [{ resourceId: '../x', currency: 'EUR' }] })).toThrow(expect.objectContaining({ kind: 'unexpected' }));
  });

  it('follows _links.next to the end, on the bank’s own host only, and stops a page that links to itself', async () => {
    const page = (id: string, next?: string) => ({
      account: { iban: 'IT16N3677201600000000410001' },
      transactions: {
        booked: [{ transactionId: id, bookingDate: today, transactionAmount: { currency: 'EUR', amount: '-1.00' } }],
        _links: next ? { next: { href: next } } : {},
      },
    });
    const first = `/ais/v1/accounts/A/transactions?bookingStatus=both&dateFrom=${addDays(today, -1)}&dateTo=${today}`;
    const { http, sent } = scripted({
      [first]: page('T1', '/v1/accounts/A/transactions?page=2'),
      '/ais/v1/accounts/A/transactions?page=2': page('T2', '/ais/v1/accounts/A/transactions?page=3'),
      '/ais/v1/accounts/A/transactions?page=3': page('T3'),
    });
    const ais = new BerlinGroupAis(new BerlinGroupClient(bank('flowe', 'flowe'), http), 'flowe');
    const ctx = { accessToken: 'at', consentId: 'C1' };
    const all = await ais.transactions(ctx, 'A', { dateFrom: addDays(today, -1), dateTo: today, bookingStatus: 'both' });
    expect(all.map((t) => t.transactionId)).toEqual(['T1', 'T2', 'T3']);
    expect(sent.every((r) => r.headers!['Consent-ID'] === 'C1' && r.headers!['PSU-IP-Address'] === undefined && r.retry === false)).toBe(true);

    const loop = scripted({ [first]: page('T1', first.replace('/ais', '')) });
    await expect(
      new BerlinGroupAis(new BerlinGroupClient(bank('flowe', 'flowe'), loop.http), 'flowe').transactions(ctx, 'A', {
        dateFrom: addDays(today, -1),
        dateTo: today,
        bookingStatus: 'both',
      }),
    ).rejects.toMatchObject({ kind: 'unexpected' });
    const elsewhere = scripted({ [first]: page('T1', 'https://evil.test/ais/v1/accounts/A/transactions?page=2') });
    await expect(
      new BerlinGroupAis(new BerlinGroupClient(bank('flowe', 'flowe'), elsewhere.http), 'flowe').transactions(ctx, 'A', {
        dateFrom: addDays(today, -1),
        dateTo: today,
        bookingStatus: 'both',
      }),
    ).rejects.toMatchObject({ kind: 'unexpected' });
    expect(elsewhere.sent).toHaveLength(1);
  });

  it('asks for balances with the list when told, and hands every request (each page) to beforeRequest before sending it', async () => {
    const page = (id: string, next?: string) => ({
      transactions: {
        booked: [{ transactionId: id, bookingDate: today, transactionAmount: { currency: 'EUR', amount: '-1.00' } }],
        _links: next ? { next: { href: next } } : {},
      },
    });
    const first = `/ais/v1/accounts/A/transactions?bookingStatus=both&dateFrom=${today}&dateTo=${today}`;
    const { http, sent } = scripted({
      '/ais/v1/accounts?withBalance=true': { accounts: [] },
      [first]: page('T1', '/v1/accounts/A/transactions?page=2'),
      '/ais/v1/accounts/A/transactions?page=2': page('T2'),
    });
    const ais = new BerlinGroupAis(new BerlinGroupClient(bank('flowe', 'flowe'), http), 'flowe');
    const uses: { resource: string; page: number; sentBefore: number }[] = [];
    const ctx = {
      accessToken: 'at',
      consentId: 'C1',
      beforeRequest: async (use: { resource: string; page: number }) => void uses.push({ ...use, sentBefore: sent.length }),
    };
    await ais.accounts(ctx, { withBalance: true });
    await ais.transactions(ctx, 'A', { dateFrom: today, dateTo: today, bookingStatus: 'both' });
    expect(uses).toEqual([
      { resource: '/accounts', page: 1, sentBefore: 0 },
      { resource: '/accounts/A/transactions', page: 1, sentBefore: 1 },
      { resource: '/accounts/A/transactions', page: 2, sentBefore: 2 },
    ]);
    // A refusal stops the request before it leaves.
    const refusing = { ...ctx, beforeRequest: async () => Promise.reject(new Error('budget spent')) };
    await expect(ais.accounts(refusing)).rejects.toThrow('budget spent');
    expect(sent).toHaveLength(3);
  });

  it('sends PSU-IP-Address (and allows retries) only on attended reads', async () => {
    const { http, sent } = scripted({ '/ais/v1/accounts': { accounts: [] } });
    const ais = new BerlinGroupAis(new BerlinGroupClient(bank('flowe', 'flowe'), http), 'flowe');
    await ais.accounts({ accessToken: 'at', consentId: 'C1', psuIpAddress: '203.0.113.7' });
    await ais.accounts({ accessToken: 'at', consentId: 'C1' });
    expect(sent.map((r) => [r.headers!['PSU-IP-Address'], r.retry])).toEqual([
      ['203.0.113.7', true],
      [undefined, false],
    ]);
  });
});
