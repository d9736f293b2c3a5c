import { DEFAULT_LATE_REJECT_CREDITOR_IBAN } from '../../src/sandbox/config.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { accountsOf, advanceClock, bgClient, call, decide, floweTokens, PSU_IP, startSandbox, validConsent } from './helpers.js';

/**
 * Flowe guide 4.2 step 5: ACSP → "Depending on the cut-off times it will become ACSC"; "In case the
 * clearing network rejects the payment with an incoming pac.002 RJCT then the status of the payment
 * changes to RJCT" — also after ACSC.
 */
const CREDITOR = 'DE89370400440532013000';
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

describe('payments after ACSP: cut-off times and clearing rejects', () => {
  let sandbox: SandboxApp;
  let base: string;
  let token: string;
  let debtor: { iban: string; resourceId: string };
  const api = () => bgClient(base, 'flowe', token);
  const now = async () => Date.parse((await call(`${base}/admin/clock`)).body.now);
  // Reads step the clock by a second, as a client polling status once a second would.
  const status = async (id: string) => {
    await advanceClock(base, 1);
    return (await api().get(`/payments/sepa-credit-transfers/${id}/status`)).body.transactionStatus as string;
  };
  const approvedPayment = async (creditor = CREDITOR, amount = '10.00') => {
    const body = {
      debtorAccount: { iban: debtor.iban },
      creditorAccount: { iban: creditor },
      creditorName: 'Mario Verdi',
      instructedAmount: { currency: 'EUR', amount },
      remittanceInformationUnstructured: 'Rent',
    };
    const created = await api().post('/payments/sepa-credit-transfers', body, { 'PSU-IP-Address': PSU_IP });
    expect(created.status).toBe(201);
    await decide(base, 'payment', created.body.paymentId);
    return created.body.paymentId as string;
  };

  // Tests about what clearing does after ACSC settle right after settlementSeconds.
  const settleWithoutCutoffs = () => call(`${base}/admin/modes`, { json: { profile: 'flowe', cutoffTimes: [] } });

  beforeEach(async () => {
    sandbox = await startSandbox({ settlementSeconds: 5, lateRejectSeconds: 3600, accessTokenTtlSeconds: 3 * 86_400 });
    base = sandbox.httpUrl;
    token = (await floweTokens(base)).access;
    debtor = (await accountsOf(base, 'alice', 'flowe'))[0]!;
  });
  afterEach(() => sandbox.close());

  it('keeps an approved payment ACSP until the next cut-off time on the sandbox clock, then ACSC', async () => {
    const cutoff = Math.floor(((await now()) + 2 * 3600_000) / 60_000) * 60_000;
    await call(`${base}/admin/modes`, { json: { profile: 'flowe', cutoffTimes: [hhmm(cutoff)] } });
    const id = await approvedPayment();
    expect(await status(id)).toBe('ACSP');
    await advanceClock(base, 60);
    expect(await status(id)).toBe('ACSP');
    await advanceClock(base, Math.ceil((cutoff - (await now())) / 1000) - 5);
    expect(await status(id)).toBe('ACSP');
    await advanceClock(base, 5);
    expect(await status(id)).toBe('ACSC');
  });

  it("moves a payment approved after the day's last cut-off to the next day's first", async () => {
    const earlier = (await now()) - 3600_000;
    await call(`${base}/admin/modes`, { json: { profile: 'flowe', cutoffTimes: [hhmm(earlier)] } });
    const id = await approvedPayment();
    await advanceClock(base, 22 * 3600);
    expect(await status(id)).toBe('ACSP');
    await advanceClock(base, 2 * 3600);
    expect(await status(id)).toBe('ACSC');
  });

  it('by default clears Flowe payments at every minute of the sandbox clock, never sooner than settlementSeconds', async () => {
    expect((await call(`${base}/admin/modes`)).body.modes.flowe.cutoffTimes).toEqual(['every 1m']);
    const id = await approvedPayment();
    const approvedAt = await now();
    const cutoff = Math.ceil((approvedAt + 5000) / 60_000) * 60_000;
    expect(await status(id)).toBe('ACSP');
    await advanceClock(base, Math.floor((cutoff - (await now())) / 1000) - 2);
    expect(await status(id)).toBe('ACSP');
    await advanceClock(base, 2);
    expect(await status(id)).toBe('ACSC');
  });

  it('clears at a cadence and at daily times together, whichever comes first', async () => {
    const t = await now();
    const midnight = new Date(t).setUTCHours(0, 0, 0, 0);
    const cadence = midnight + Math.ceil((t + 10_000 - midnight) / 5_400_000) * 5_400_000;
    // A daily cut-off five minutes from now when that is the earlier one, else one after the cadence's.
    const daily = cadence - t > 600_000 ? Math.ceil((t + 300_000) / 60_000) * 60_000 : cadence + 1_800_000;
    await call(`${base}/admin/modes`, { json: { profile: 'flowe', cutoffTimes: ['every 90m', hhmm(daily)] } });
    const id = await approvedPayment();
    const first = Math.min(cadence, daily);
    await advanceClock(base, Math.floor((first - (await now())) / 1000) - 2);
    expect(await status(id)).toBe('ACSP');
    await advanceClock(base, 2);
    expect(await status(id)).toBe('ACSC');
  });

  it('without cut-off times, settles settlementSeconds after approval', async () => {
    await settleWithoutCutoffs();
    const id = await approvedPayment();
    expect(await status(id)).toBe('ACSP');
    await advanceClock(base, 4);
    expect(await status(id)).toBe('ACSC');
  });

  it('turns ACSC into RJCT when clearing rejects later (the late-reject creditor), and returns the money on the account', async () => {
    await settleWithoutCutoffs();
    const consentId = await validConsent(base, 'flowe', token);
    const balance = async () => {
      const res = await api().get(`/accounts/${debtor.resourceId}/balances`, { 'Consent-ID': consentId, 'PSU-IP-Address': PSU_IP });
      return res.body.balances.find((b: { balanceType: string }) => b.balanceType === 'closingBooked').balanceAmount.amount as string;
    };
    const before = await balance();
    const id = await approvedPayment(DEFAULT_LATE_REJECT_CREDITOR_IBAN, '25.00');
    await advanceClock(base, 5);
    expect(await status(id)).toBe('ACSC');
    expect(Number(await balance())).toBeCloseTo(Number(before) - 25, 2);
    await advanceClock(base, 3600 - 10);
    expect(await status(id)).toBe('ACSC');
    await advanceClock(base, 10);
    expect(await status(id)).toBe('RJCT');
    expect(await balance()).toBe(before);
    const booked = (await api().get(`/accounts/${debtor.resourceId}/transactions?bookingStatus=booked`, { 'Consent-ID': consentId, 'PSU-IP-Address': PSU_IP }))
      .body.transactions.booked;
    expect(booked.slice(0, 2)).toEqual([
      expect.objectContaining({
        transactionId: `${id}-R`,
        transactionAmount: { currency: 'EUR', amount: '25.00' },
        remittanceInformationUnstructured: 'Returned by clearing: Rent',
      }),
      expect.objectContaining({ transactionId: id, transactionAmount: { currency: 'EUR', amount: '-25.00' } }),
    ]);
  });

  it('rejects a payment by clearing on an admin call: RJCT after ACSC or during ACSP; 409 before approval, 404 for an unknown id', async () => {
    await settleWithoutCutoffs();
    const settled = await approvedPayment();
    await advanceClock(base, 5);
    expect(await status(settled)).toBe('ACSC');
    const rejected = await call(`${base}/admin/payments/${settled}/clearing-reject`, { method: 'POST' });
    expect(rejected.body).toEqual({ paymentId: settled, transactionStatus: 'RJCT' });
    expect(await status(settled)).toBe('RJCT');
    expect((await call(`${base}/admin/payments/${settled}/clearing-reject`, { method: 'POST' })).status).toBe(409);

    const processing = await approvedPayment();
    expect((await call(`${base}/admin/payments/${processing}/clearing-reject`, { method: 'POST' })).body.transactionStatus).toBe('RJCT');
    await advanceClock(base, 10);
    expect(await status(processing)).toBe('RJCT');

    const created = await api().post(
      '/payments/sepa-credit-transfers',
      { debtorAccount: { iban: debtor.iban }, creditorAccount: { iban: CREDITOR }, creditorName: 'X', instructedAmount: { currency: 'EUR', amount: '1.00' } },
      { 'PSU-IP-Address': PSU_IP },
    );
    expect((await call(`${base}/admin/payments/${created.body.paymentId}/clearing-reject`, { method: 'POST' })).status).toBe(409);
    expect((await call(`${base}/admin/payments/PI-NOPE/clearing-reject`, { method: 'POST' })).status).toBe(404);
  });

  it('validates cut-off times', async () => {
    for (const cutoffTimes of [['25:00'], ['9:00'], 'noon', [1], ['every 0m'], ['every 1441m'], ['every 5 minutes'], ['every m']]) {
      expect((await call(`${base}/admin/modes`, { json: { profile: 'flowe', cutoffTimes } })).status).toBe(400);
    }
    expect((await call(`${base}/admin/modes`, { json: { profile: 'flowe', cutoffTimes: ['every 1440m', '10:00'] } })).status).toBe(200);
  });
});
