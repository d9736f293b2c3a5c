import fc from 'fast-check';
import { AppError, type FieldError } from '../../src/common/errors/app-error.js';
import { parsePaymentCommand, requestHash } from '../../src/modules/pis/payment-request.js';
import { amountProblem, ibanProblem, normaliseIban, sepaTextProblem } from '../../src/modules/pis/payment-rules.js';
import { asTyped, mutateOneDigit, validAmount, validIban } from '../pis/arbitraries.js';
import { IBAN, paymentBody } from '../support/payment-fixtures.js';

const FLOWE = { name: 'Flowe', currencies: ['EUR'] };

/** The EPC's basic Latin set, character by character. */
const EPC = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ";
const sepaText = (minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...EPC), minLength, maxLength });

async function fieldsRefused(body: unknown, key: unknown = 'k1'): Promise<string[]> {
  try {
    await parsePaymentCommand(body, key, FLOWE);
  } catch (error) {
    if (error instanceof AppError && error.code === 'validation_failed') return (error.extensions.errors as FieldError[]).map((e) => e.field);
    throw error;
  }
  return [];
}

describe('payment rules (property-based)', () => {
  it('accepts every valid EUR amount, unchanged', () => {
    fc.assert(
      fc.property(validAmount(), (amount) => {
        expect(amountProblem(amount, 'EUR')).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses every string that is not a valid EUR amount by our own reference definition', () => {
    const reference = (s: string) => /^(0|[1-9][0-9]{0,13})(\.[0-9]{1,2})?$/.test(s) && /[1-9]/.test(s);
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'grapheme-ascii', maxLength: 20 }), fc.stringMatching(/^[-+ 0]?[0-9]{0,16}(\.[0-9]{0,4})?(e[0-9])?$/)),
        (candidate) => {
          expect(amountProblem(candidate, 'EUR') === undefined).toBe(reference(candidate));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('allows as many decimals as the currency has (JPY 0, BHD 3), never more than Berlin Group’s 3', () => {
    expect(amountProblem('100', 'JPY')).toBeUndefined();
    expect(amountProblem('100.5', 'JPY')).toMatch(/at most 0 decimals/);
    expect(amountProblem('1.125', 'BHD')).toBeUndefined();
    expect(amountProblem('1.125', 'EUR')).toMatch(/at most 2 decimals in EUR/);
  });

  it('accepts valid SEPA IBANs of every format-checked country however they are typed', () => {
    fc.assert(
      fc.property(validIban(), fc.boolean(), fc.boolean(), (iban, spaced, lower) => {
        const typed = normaliseIban(asTyped(iban, spaced, lower));
        expect(typed).toBe(iban);
        expect(ibanProblem(typed)).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses every IBAN with one digit changed (mod-97 catches it)', () => {
    fc.assert(
      fc.property(validIban(), fc.nat(), fc.nat(), (iban, position, delta) => {
        const mutated = mutateOneDigit(iban, position, delta)!;
        expect(mutated).not.toBe(iban);
        expect(ibanProblem(normaliseIban(mutated))).toBeDefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses IBANs with one character inserted or removed, or with a stray character', () => {
    fc.assert(
      fc.property(validIban(), fc.nat(), fc.constantFrom('\n', '\t', '.', '_', '１', 'é', '/'), (iban, position, stray) => {
        const at = position % iban.length;
        expect(ibanProblem(normaliseIban(iban.slice(0, at) + iban.slice(at + 1)))).toBeDefined();
        expect(ibanProblem(normaliseIban(`${iban.slice(0, at)}${stray}${iban.slice(at)}`))).toBeDefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('validates whole requests: valid ones parse, a bad field is always named', async () => {
    await fc.assert(
      fc.asyncProperty(
        validIban(),
        validAmount(),
        sepaText(1, 70).filter((s) => /\S/.test(s)),
        async (creditor, amount, name) => {
          const command = await parsePaymentCommand(
            paymentBody({ creditorAccount: { iban: creditor }, instructedAmount: { amount, currency: 'EUR' }, creditorName: name }),
            'key',
            FLOWE,
          );
          expect(command.order).toMatchObject({ creditorIban: creditor, amount, creditorName: name, debtorIban: IBAN.aliceFlowe });
          expect(await fieldsRefused(paymentBody({ instructedAmount: { amount: `${amount}e1`, currency: 'EUR' } }))).toEqual(['instructedAmount.amount']);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fuzz: any JSON body and any header value is either a valid command or a 400 naming fields, never another error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc
            .tuple(fc.constantFrom('debtorAccount', 'creditorAccount', 'instructedAmount', 'creditorName', '__proto__'), fc.jsonValue())
            .map(([k, v]) => ({ ...paymentBody(), [k]: v })),
        ),
        fc.oneof(fc.string({ maxLength: 300 }), fc.constant(undefined), fc.array(fc.string())),
        async (body, key) => {
          const outcome = await parsePaymentCommand(body, key, FLOWE).then(
            () => 'valid',
            (error: unknown) =>
              error instanceof AppError && error.code === 'validation_failed' && (error.extensions.errors as FieldError[]).length > 0 ? 'refused' : error,
          );
          expect(['valid', 'refused']).toContain(outcome);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('accepts creditor names and remittance text in the EPC Latin set, and refuses every other character, naming it by code point', async () => {
    fc.assert(
      fc.property(sepaText(0, 140), (text) => {
        expect(sepaTextProblem(text)).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(
        sepaText(0, 20),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((ch) => !EPC.includes(ch)),
        sepaText(0, 20),
        (before, odd, after) => {
          expect(sepaTextProblem(before + odd + after)).toContain(`U+${odd.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
        },
      ),
      { numRuns: 2000 },
    );
    for (const [text, codePoint] of [
      ['Bob\u202EBianchi', 'U+202E'],
      ['Bob\u2028Bianchi', 'U+2028'],
      ['Bob\u200BBianchi', 'U+200B'],
      ['Bob\nBianchi', 'U+000A'],
      ['Zoë', 'U+00EB'],
      ['10 €', 'U+20AC'],
      ['Tom & Jerry', 'U+0026'],
    ]) {
      expect(await fieldsRefused(paymentBody({ creditorName: text }))).toEqual(['creditorName']);
      expect(await fieldsRefused(paymentBody({ remittanceInformationUnstructured: text }))).toEqual(['remittanceInformationUnstructured']);
      expect(sepaTextProblem(text)).toContain(codePoint);
    }
  });

  it('refuses Swiss and Liechtenstein QR-IBANs (institution id 30000–31999): they cannot receive a SEPA credit transfer', async () => {
    for (const qr of ['CH4431999123000889012', 'CH44 3199 9123 0008 8901 2', 'LI4830000000000012345']) {
      const iban = normaliseIban(qr) as string;
      expect(ibanProblem(iban)).toMatch(/QR-IBAN/);
    }
    // An ordinary Swiss IBAN is fine.
    expect(ibanProblem('CH9300762011623852957')).toBeUndefined();
    expect(await fieldsRefused(paymentBody({ creditorAccount: { iban: 'CH4431999123000889012' } }))).toEqual(['creditorAccount.iban']);
  });

  it('hashes the canonical request: same payment however the IBANs are typed, different for any other change', async () => {
    const a = await parsePaymentCommand(paymentBody(), 'k', FLOWE);
    const b = await parsePaymentCommand(paymentBody({ creditorAccount: { iban: asTyped(IBAN.bobFlowe, true, true) } }), 'k', FLOWE);
    const c = await parsePaymentCommand(paymentBody({ instructedAmount: { amount: '12.51', currency: 'EUR' } }), 'k', FLOWE);
    expect(requestHash('conn', a.order)).toBe(requestHash('conn', b.order));
    expect(requestHash('conn', a.order)).not.toBe(requestHash('conn', c.order));
    expect(requestHash('conn', a.order)).not.toBe(requestHash('other-conn', a.order));
  });
});
