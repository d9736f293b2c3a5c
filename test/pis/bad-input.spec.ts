import fc from 'fast-check';
import request from 'supertest';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';
import { startSandbox } from '../support/bank-world.js';
import { validAmount } from './arbitraries.js';
import { connect, IBAN, initiationsAtBank, pay, paymentBody, userToken, pisEnv } from './support.js';

interface FieldError {
  field: string;
  message: string;
}

describe('payments: every input is checked before the bank sees it', () => {
  let sandbox: SandboxApp;
  let bff: TestBff;
  let alice: string;
  let aliceFlowe: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    bff = await startTestBff(pisEnv(sandbox));
    alice = await userToken(bff, 'alice');
    aliceFlowe = await connect(bff, alice, 'alice', 'flowe');
  });
  afterAll(async () => {
    await bff.close();
    await sandbox.close();
  });

  const paymentRows = () => withClient(bff.db.url, async (c) => Number((await c.query('SELECT count(*) FROM payments')).rows[0].count));

  /** Sends a bad request: 400 problem+json naming `fields`, nothing stored, nothing sent to the bank. */
  async function expectRefused(body: unknown, fields: string[], key?: string | null): Promise<FieldError[]> {
    const [atBank, rows] = [await initiationsAtBank(sandbox.httpUrl), await paymentRows()];
    const res = await pay(bff, alice, aliceFlowe, body, key === undefined ? `k-${Math.random()}` : key);
    expect({ status: res.status, type: res.headers['content-type'] }).toEqual({ status: 400, type: expect.stringMatching(/^application\/problem\+json/) });
    expect(res.body.code).toBe('validation_failed');
    const named = (res.body.errors as FieldError[]).map((e) => e.field);
    expect([...new Set(named)].sort()).toEqual([...fields].sort());
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(atBank);
    expect(await paymentRows()).toBe(rows);
    return res.body.errors;
  }

  it.each([
    ['0'],
    ['-1'],
    ['1.001'],
    ['1e3'],
    [' 5'],
    ['+1'],
    ['0x10'],
    ['.5'],
    ['12.'],
    ['00001'],
    ['0.00'],
    ['1.005'],
    ['-1.00'],
    ['1,50'],
    ['1 000'],
    ['NaN'],
    ['Infinity'],
    ['１２'],
    ['5\n'],
    ['123456789012345'],
    [''],
  ])('refuses the amount %j', async (amount) => {
    await expectRefused(paymentBody({ instructedAmount: { amount, currency: 'EUR' } }), ['instructedAmount.amount']);
  });

  it('refuses amounts sent as JSON numbers (money is never a float)', async () => {
    await expectRefused({ ...paymentBody(), instructedAmount: { amount: 12.5, currency: 'EUR' } }, ['instructedAmount.amount']);
  });

  it.each([
    ['a wrong checksum', 'IT17N3677201600000000410001'],
    ['the wrong length for its country', 'IT16N36772016000000004100011'],
    ['an unknown country', 'XX16N3677201600000000410001'],
    ['a newline inside', 'IT16N3677201600\n000000410001'],
    ['full-width digits', 'IT１６N3677201600000000410001'],
    ['a tab', 'IT16N3677201600000000410001\t'],
    ['a country outside SEPA', 'BR1500000000000010932840814P2'],
    ['a Swiss QR-IBAN (QR-bill payments only)', 'CH4431999123000889012'],
    ['nothing', ''],
  ])('refuses an IBAN with %s', async (_why, iban) => {
    const errors = await expectRefused(paymentBody({ creditorAccount: { iban } }), ['creditorAccount.iban']);
    expect(errors[0].message).not.toMatch(/^creditorAccount/);
  });

  it('normalises IBANs typed with spaces and lower case instead of refusing them', async () => {
    const res = await pay(
      bff,
      alice,
      aliceFlowe,
      paymentBody({ debtorAccount: { iban: 'it16 n367 7201 6000 0000 0410 001' }, creditorAccount: { iban: ' IT45 P367 7201 6000 0000 0420 002 ' } }),
    ).expect(201);
    expect(res.body).toMatchObject({ debtorAccount: { iban: IBAN.aliceFlowe }, creditorAccount: { iban: IBAN.bobFlowe } });
  });

  it('refuses a currency Flowe does not accept, and one that is not ISO 4217', async () => {
    const errors = await expectRefused(paymentBody({ instructedAmount: { amount: '10.00', currency: 'USD' } }), ['instructedAmount.currency']);
    expect(errors[0].message).toBe('Flowe accepts EUR only');
    await expectRefused(paymentBody({ instructedAmount: { amount: '10.00', currency: 'eur' } }), ['instructedAmount.currency']);
  });

  it('refuses over-long, blank or control-character names and references', async () => {
    await expectRefused(paymentBody({ creditorName: 'x'.repeat(71) }), ['creditorName']);
    await expectRefused(paymentBody({ creditorName: '   ' }), ['creditorName']);
    await expectRefused(paymentBody({ creditorName: 'Bob\u0000Bianchi' }), ['creditorName']);
    await expectRefused(paymentBody({ remittanceInformationUnstructured: 'r'.repeat(141) }), ['remittanceInformationUnstructured']);
    await expectRefused(paymentBody({ endToEndIdentification: 'e'.repeat(36) }), ['endToEndIdentification']);
    await expectRefused(paymentBody({ endToEndIdentification: '/leading-slash' }), ['endToEndIdentification']);
    // The limits themselves are fine.
    await pay(
      bff,
      alice,
      aliceFlowe,
      paymentBody({ creditorName: 'x'.repeat(70), remittanceInformationUnstructured: 'r'.repeat(140), endToEndIdentification: 'E'.repeat(35) }),
    ).expect(201);
  });

  it.each([
    ['a right-to-left override', 'Bob \u202Eoidua'],
    ['a line separator', 'Bob\u2028Bianchi'],
    ['a zero-width space', 'Bob\u200BBianchi'],
    ['a newline', 'Bob\nBianchi'],
    ['a character outside the EPC Latin set', 'Bob & Co'],
  ])('refuses a name or remittance text with %s (SEPA EPC character set), naming the field and the character', async (_why, text) => {
    const [name] = await expectRefused(paymentBody({ creditorName: text }), ['creditorName']);
    expect(name.message).toMatch(/SEPA \(EPC\) Latin characters.*refused: U\+[0-9A-F]{4}/);
    expect(name.message).not.toMatch(/[\u202E\u2028\u200B\n]/);
    await expectRefused(paymentBody({ remittanceInformationUnstructured: text }), ['remittanceInformationUnstructured']);
  });

  it.each([
    ['missing', null],
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['not ASCII', 'clé'],
  ])('refuses a %s Idempotency-Key', async (_why, key) => {
    await expectRefused(paymentBody(), ['header:Idempotency-Key'], key);
  });

  it('lists every bad field at once, header included', async () => {
    const errors = await expectRefused(
      {
        debtorAccount: { iban: 'IT00 0000' },
        creditorAccount: { iban: 'IT17N3677201600000000410001' },
        creditorName: 'n'.repeat(80),
        instructedAmount: { amount: '1e3', currency: 'USD' },
        remittanceInformationUnstructured: 'r'.repeat(200),
        endToEndIdentification: 'e'.repeat(40),
      },
      [
        'header:Idempotency-Key',
        'debtorAccount.iban',
        'creditorAccount.iban',
        'creditorName',
        'instructedAmount.amount',
        'instructedAmount.currency',
        'remittanceInformationUnstructured',
        'endToEndIdentification',
      ],
      null,
    );
    expect(errors.every((e) => e.message.length > 0)).toBe(true);
  });

  it('refuses missing fields, unknown properties, other account references and non-object bodies', async () => {
    await expectRefused({}, ['debtorAccount', 'creditorAccount', 'creditorName', 'instructedAmount']);
    await expectRefused({ ...paymentBody(), chargeBearer: 'CRED' }, ['chargeBearer']);
    await expectRefused({ ...paymentBody(), debtorAccount: { iban: IBAN.aliceFlowe, bban: '3677201600000000410001' } }, ['debtorAccount.bban']);
    await expectRefused({ ...paymentBody(), instructedAmount: { amount: '1.00' } }, ['instructedAmount.currency']);
    await expectRefused([paymentBody()], ['body']);
    const res = await request(bff.url)
      .post(`/api/v1/connections/${aliceFlowe}/payments`)
      .set('Authorization', `Bearer ${alice}`)
      .set('Idempotency-Key', 'proto')
      .set('content-type', 'application/json')
      .send('{"__proto__":{"polluted":true},"debtorAccount":{"iban":"IT16N3677201600000000410001"}}');
    expect(res.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await request(bff.url)
      .post(`/api/v1/connections/${aliceFlowe}/payments`)
      .set('Authorization', `Bearer ${alice}`)
      .set('Idempotency-Key', 'form')
      .type('form')
      .send('a=1')
      .expect(415);
  });

  /** Never a 5xx; a refusal is always problem+json. */
  function expectHandled(res: { status: number; headers: Record<string, string> }): void {
    expect({ status: res.status, problem: res.status < 400 || /^application\/problem\+json/.test(res.headers['content-type']) }).toEqual({
      status: expect.any(Number),
      problem: true,
    });
    expect(res.status).toBeLessThan(500);
  }

  // The same over the validation alone, 1,000+ runs, is in payment-rules.spec.ts.
  it('fuzz over HTTP: random bodies, keys and ids never cause a 5xx, and every refusal is problem+json', async () => {
    const printable = (s: string) => /^[\x20-\x7e]*$/.test(s);
    const field = fc.constantFrom(
      'debtorAccount',
      'creditorAccount',
      'creditorName',
      'instructedAmount',
      'remittanceInformationUnstructured',
      'endToEndIdentification',
      '__proto__',
      'constructor',
    );
    const body = fc.oneof(
      fc.json(),
      fc.tuple(field, fc.jsonValue()).map(([name, value]) => `{${JSON.stringify(name)}:${JSON.stringify(value)},${JSON.stringify(paymentBody()).slice(1)}`),
      fc.tuple(fc.jsonValue(), fc.jsonValue()).map(([amount, currency]) => JSON.stringify(paymentBody({ instructedAmount: { amount, currency } as never }))),
    );
    const key = fc.option(fc.string({ maxLength: 300 }).filter(printable), { nil: null });
    await fc.assert(
      fc.asyncProperty(body, key, async (raw, idempotencyKey) => {
        const req = request(bff.url)
          .post(`/api/v1/connections/${aliceFlowe}/payments`)
          .set('Authorization', `Bearer ${alice}`)
          .set('content-type', 'application/json');
        if (idempotencyKey !== null) req.set('Idempotency-Key', idempotencyKey);
        expectHandled(await req.send(raw));
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), fc.constantFrom('', '?refresh=true', '?refresh=yes', '?x=1'), async (id, query) => {
        const path = `/api/v1/payments/${encodeURIComponent(id)}${query}`;
        for (const method of ['get', 'delete'] as const) {
          expectHandled(await request(bff.url)[method](path).set('Authorization', `Bearer ${alice}`));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('property: valid amounts and IBANs (any spacing, any case) are accepted by the BFF and the bank', async () => {
    await fc.assert(
      fc.asyncProperty(validAmount(), fc.boolean(), fc.boolean(), async (amount, spaced, lower) => {
        let creditor: string = IBAN.bobFlowe;
        if (spaced) creditor = creditor.replace(/(.{4})/g, '$1 ');
        if (lower) creditor = creditor.toLowerCase();
        const res = await pay(bff, alice, aliceFlowe, paymentBody({ instructedAmount: { amount, currency: 'EUR' }, creditorAccount: { iban: creditor } }));
        expect(res.status).toBe(201);
        expect(res.body.instructedAmount.amount).toBe(amount);
        expect(res.body.creditorAccount.iban).toBe(IBAN.bobFlowe);
      }),
      { numRuns: 20 },
    );
  });

  it('property: a valid amount made invalid (sign, exponent, blank, leading zero, third decimal, bare dot) never reaches the bank', async () => {
    const mutations: ((a: string) => string)[] = [
      (a) => `+${a}`,
      (a) => `-${a}`,
      (a) => ` ${a}`,
      (a) => `${a} `,
      (a) => `0${a}`,
      (a) => `${a.split('.')[0]}.${`${a.split('.')[1] ?? ''}00`.slice(0, 2)}5`,
      (a) => `${a}e2`,
      (a) => `${a.split('.')[0]}.`,
    ];
    await fc.assert(
      fc.asyncProperty(validAmount(), fc.constantFrom(...mutations), async (amount, mutate) => {
        await expectRefused(paymentBody({ instructedAmount: { amount: mutate(amount), currency: 'EUR' } }), ['instructedAmount.amount']);
      }),
      { numRuns: 40 },
    );
  });
});
