import { DEFAULT_REJECT_CREDITOR_IBAN } from '../../src/sandbox/config.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { assertBerlinGroupResponse } from '../support/berlin-group-openapi.js';
import { accountsOf, advanceClock, bgClient, call, connectPayTokens, decide, floweTokens, PSU_IP, startSandbox, validConsent } from './helpers.js';

const attended = { 'PSU-IP-Address': PSU_IP };
const CREDITOR = 'DE89370400440532013000';

let sandbox: SandboxApp;
let base: string;
let token: string;
let debtor: string;
beforeAll(async () => {
  // The lifecycle is read status by status within a second (the polling rate has its own tests:
  // status-polling.spec.ts), with ACSC exactly settlementSeconds after approval (cut-offs: settlement.spec.ts).
  sandbox = await startSandbox({
    settlementSeconds: 5,
    modes: { flowe: { statusPollMinIntervalMs: 0, cutoffTimes: [] }, connectpay: { statusPollMinIntervalMs: 0 } },
  });
  base = sandbox.httpUrl;
  token = (await floweTokens(base)).access;
  debtor = (await accountsOf(base, 'alice', 'flowe'))[0]!.iban;
});
afterAll(() => sandbox.close());

const body = (overrides: Record<string, unknown> = {}) => ({
  debtorAccount: { iban: debtor },
  creditorAccount: { iban: CREDITOR },
  creditorName: 'Mario Verdi',
  instructedAmount: { currency: 'EUR', amount: '10.00' },
  remittanceInformationUnstructured: 'Thanks',
  ...overrides,
});
const api = () => bgClient(base, 'flowe', token);
const initiate = (overrides: Record<string, unknown> = {}, headers: Record<string, string> = attended) =>
  api().post('/payments/sepa-credit-transfers', body(overrides), headers);
const status = async (paymentId: string) => (await api().get(`/payments/sepa-credit-transfers/${paymentId}/status`)).body.transactionStatus as string;

describe('payment initiation input', () => {
  it('requires PSU-IP-Address (400 FORMAT_ERROR)', async () => {
    const res = await initiate({}, {});
    expect(res.status).toBe(400);
    expect(res.body.tppMessages[0]).toMatchObject({ code: 'FORMAT_ERROR', path: 'PSU-IP-Address' });
    assertBerlinGroupResponse('POST', '/v1/{payment-service}/{payment-product}', 400, res.body);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['a debtor IBAN with a bad checksum', { debtorAccount: { iban: 'IT61X0542811101000000123456' } }, 'debtorAccount.iban'],
    ['a creditor IBAN with a bad checksum', { creditorAccount: { iban: 'DE89370400440532013001' } }, 'creditorAccount.iban'],
    ['an IBAN with spaces', { creditorAccount: { iban: 'DE89 3704 0044 0532 0130 00' } }, 'creditorAccount.iban'],
    ['a lower-case IBAN', { creditorAccount: { iban: 'de89370400440532013000' } }, 'creditorAccount.iban'],
    ['a BBAN account reference', { creditorAccount: { bban: '370400440532013000' } }, 'creditorAccount.bban'],
    ['a missing creditorAccount', { creditorAccount: undefined }, 'creditorAccount'],
    ['a non-EUR currency', { instructedAmount: { currency: 'USD', amount: '10.00' } }, 'instructedAmount.currency'],
    ['amount 1e5', { instructedAmount: { currency: 'EUR', amount: '1e5' } }, 'instructedAmount.amount'],
    ['amount +1', { instructedAmount: { currency: 'EUR', amount: '+1' } }, 'instructedAmount.amount'],
    ['amount 0x10', { instructedAmount: { currency: 'EUR', amount: '0x10' } }, 'instructedAmount.amount'],
    ['amount " 1.00"', { instructedAmount: { currency: 'EUR', amount: ' 1.00' } }, 'instructedAmount.amount'],
    ['amount -1.00', { instructedAmount: { currency: 'EUR', amount: '-1.00' } }, 'instructedAmount.amount'],
    ['amount 0.00', { instructedAmount: { currency: 'EUR', amount: '0.00' } }, 'instructedAmount.amount'],
    ['amount 1.005 (3 decimals in EUR)', { instructedAmount: { currency: 'EUR', amount: '1.005' } }, 'instructedAmount.amount'],
    ['amount 12.', { instructedAmount: { currency: 'EUR', amount: '12.' } }, 'instructedAmount.amount'],
    ['amount .5', { instructedAmount: { currency: 'EUR', amount: '.5' } }, 'instructedAmount.amount'],
    ['a numeric amount', { instructedAmount: { currency: 'EUR', amount: 10 } }, 'instructedAmount.amount'],
    ['a creditorName over 70 characters', { creditorName: 'x'.repeat(71) }, 'creditorName'],
    ['a missing creditorName', { creditorName: undefined }, 'creditorName'],
    ['remittance over 140 characters', { remittanceInformationUnstructured: 'r'.repeat(141) }, 'remittanceInformationUnstructured'],
  ];
  it.each(invalid)('refuses %s with 400 FORMAT_ERROR naming the field', async (_, overrides, path) => {
    const res = await initiate(overrides);
    expect(res.status).toBe(400);
    expect(res.body.tppMessages[0]).toMatchObject({ code: 'FORMAT_ERROR', path });
  });

  it('accepts the limits: 70-character name, 140-character remittance, 00001.5', async () => {
    const res = await initiate({
      creditorName: 'n'.repeat(70),
      remittanceInformationUnstructured: 'r'.repeat(140),
      instructedAmount: { currency: 'EUR', amount: '00001.5' },
    });
    expect(res.status).toBe(201);
  });

  it("refuses a debtor account that is not the PSU's (400 RESOURCE_UNKNOWN)", async () => {
    const bobs = (await accountsOf(base, 'bob', 'flowe'))[0]!.iban;
    const res = await initiate({ debtorAccount: { iban: bobs } });
    expect(res.status).toBe(400);
    expect(res.body.tppMessages[0]).toMatchObject({ code: 'RESOURCE_UNKNOWN', path: 'debtorAccount.iban' });
  });

  it('supports only sepa-credit-transfers (404 PRODUCT_UNKNOWN)', async () => {
    const res = await api().post('/payments/instant-sepa-credit-transfers', body(), attended);
    expect(res.status).toBe(404);
    expect(res.body.tppMessages[0].code).toBe('PRODUCT_UNKNOWN');
  });
});

describe('payment lifecycle (decoupled SCA, status derived from the sandbox clock)', () => {
  it('goes RCVD → ACSP on approval → ACSC after settlementSeconds', async () => {
    const created = await initiate();
    expect(created.status).toBe(201);
    const id = created.body.paymentId as string;
    expect(id).toMatch(/^PI[A-Z0-9]{14}$/);
    expect(created.body._links.scaStatus.href).toBe(`/flowe/openbankingpis/v1/payments/sepa-credit-transfers/${id}/authorisations/${id}-AUTH-1`);
    expect(await status(id)).toBe('RCVD');
    const pending = await call(`${base}/psu/api/pending?username=alice`);
    expect(pending.body.payments).toContainEqual(
      expect.objectContaining({ id, profile: 'flowe', amount: { currency: 'EUR', amount: '10.00' }, creditorName: 'Mario Verdi' }),
    );
    await decide(base, 'payment', id);
    expect(await status(id)).toBe('ACSP');
    await advanceClock(base, 4);
    expect(await status(id)).toBe('ACSP');
    await advanceClock(base, 1);
    expect(await status(id)).toBe('ACSC');
    expect((await api().get(created.body._links.scaStatus.href)).body).toEqual({ scaStatus: 'finalised' });
  });

  it('ends in RJCT when clearing rejects the creditor (the configured reject IBAN)', async () => {
    const created = await initiate({ creditorAccount: { iban: DEFAULT_REJECT_CREDITOR_IBAN } });
    await decide(base, 'payment', created.body.paymentId);
    expect(await status(created.body.paymentId)).toBe('ACSP');
    await advanceClock(base, 5);
    expect(await status(created.body.paymentId)).toBe('RJCT');
  });

  it('becomes CANC (scaStatus failed) when the PSU rejects', async () => {
    const created = await initiate();
    expect((await decide(base, 'payment', created.body.paymentId, 'reject')).body).toMatchObject({ status: 'CANC', scaStatus: 'failed' });
    expect(await status(created.body.paymentId)).toBe('CANC');
    expect((await api().get(created.body._links.scaStatus.href)).body.scaStatus).toBe('failed');
  });

  it('is cancelled by DELETE while RCVD (204, CANC); the PSU can no longer decide', async () => {
    const created = await initiate();
    const deleted = await api().delete(created.body._links.self.href);
    expect(deleted.status).toBe(204);
    expect(await status(created.body.paymentId)).toBe('CANC');
    expect((await decide(base, 'payment', created.body.paymentId)).status).toBe(409);
    expect((await call(`${base}/psu/api/pending`)).body.payments.map((p: { id: string }) => p.id)).not.toContain(created.body.paymentId);
  });

  it('refuses DELETE once approved (405 CANCELLATION_INVALID), in ACSP and in ACSC', async () => {
    const created = await initiate();
    await decide(base, 'payment', created.body.paymentId);
    const acsp = await api().delete(created.body._links.self.href);
    expect(acsp.status).toBe(405);
    expect(acsp.body.tppMessages[0].code).toBe('CANCELLATION_INVALID');
    assertBerlinGroupResponse('DELETE', '/v1/{payment-service}/{payment-product}/{paymentId}', 405, acsp.body);
    await advanceClock(base, 5);
    expect((await api().delete(created.body._links.self.href)).status).toBe(405);
    expect(await status(created.body.paymentId)).toBe('ACSC');
  });

  it('keeps payments private to their PSU (403 RESOURCE_UNKNOWN) and checks the authorisation id', async () => {
    const created = await initiate();
    const bob = (await floweTokens(base, { username: 'bob' })).access;
    const other = await bgClient(base, 'flowe', bob).get(created.body._links.status.href);
    expect(other.status).toBe(403);
    expect(other.body.tppMessages[0].code).toBe('RESOURCE_UNKNOWN');
    const wrongAuth = await api().get(`/payments/sepa-credit-transfers/${created.body.paymentId}/authorisations/other`);
    expect(wrongAuth.status).toBe(403);
    const list = await api().get(`/payments/sepa-credit-transfers/${created.body.paymentId}/authorisations`);
    expect(list.body).toEqual({ authorisationIds: [`${created.body.paymentId}-AUTH-1`] });
  });

  it('lists every payment of both banks for tests, with its status and end-to-end id, and shows the end-to-end id on the statement', async () => {
    const consent = await validConsent(base, 'flowe', token);
    const created = await api().post('/payments/sepa-credit-transfers', { ...body(), endToEndIdentification: 'e2e-listed-1' }, attended);
    expect(created.status).toBe(201);
    await decide(base, 'payment', created.body.paymentId);
    const { payments } = (await call(`${base}/admin/payments`)).body as {
      payments: { paymentId: string; profile: string; transactionStatus: string; endToEndIdentification: string | null }[];
    };
    expect(payments.find((p) => p.paymentId === created.body.paymentId)).toMatchObject({
      profile: 'flowe',
      transactionStatus: 'ACSP',
      endToEndIdentification: 'e2e-listed-1',
    });
    const account = (await accountsOf(base, 'alice', 'flowe'))[0]!;
    const pending = (await api().get(`/accounts/${account.resourceId}/transactions?bookingStatus=pending`, { 'Consent-ID': consent, ...attended })).body
      .transactions.pending;
    expect(pending).toContainEqual(expect.objectContaining({ transactionId: created.body.paymentId, endToEndId: 'e2e-listed-1' }));
  });

  it('answers the PSU API with 404 for an unknown id', async () => {
    expect((await decide(base, 'payment', 'PI0000')).status).toBe(404);
  });

  it("moves the debtor's balances: expected first, closingBooked after settlement (ConnectPay)", async () => {
    const cp = (await connectPayTokens(base)).access;
    const consent = await validConsent(base, 'connectpay', cp, { access: { allPsd2: 'allAccounts' } });
    const account = (await accountsOf(base, 'alice', 'connectpay'))[0]!;
    const cpApi = bgClient(base, 'connectpay', cp);
    const balances = async () => {
      const res = await cpApi.get(`/accounts/${account.resourceId}/balances`, { 'Consent-ID': consent, ...attended });
      return Object.fromEntries(
        res.body.balances.map((b: { balanceType: string; balanceAmount: { amount: string } }) => [
          b.balanceType,
          Math.round(Number(b.balanceAmount.amount) * 100),
        ]),
      );
    };
    const before = await balances();
    const created = await cpApi.post(
      '/payments/sepa-credit-transfers',
      { ...body(), debtorAccount: { iban: account.iban }, instructedAmount: { currency: 'EUR', amount: '100.25' } },
      attended,
    );
    expect(created.body.paymentId).toMatch(/^[0-9a-f-]{36}$/);
    await decide(base, 'payment', created.body.paymentId);
    const approved = await balances();
    expect(approved).toEqual({ closingBooked: before.closingBooked, expected: before.expected! - 10_025 });
    await advanceClock(base, 5);
    expect(await balances()).toEqual({ closingBooked: before.closingBooked! - 10_025, expected: before.expected! - 10_025 });
  });
});
