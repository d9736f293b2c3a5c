import { berlinGroupSpecPath, validateBerlinGroupRequest, validateBerlinGroupResponse } from '../support/berlin-group-openapi.js';

describe('Berlin Group OpenAPI validator (test/support)', () => {
  it("maps concrete paths to the definition's templates, literal segments first", () => {
    expect(berlinGroupSpecPath('/flowe/openbankingais/v1/consents/ABC/status')).toBe('/v1/consents/{consentId}/status');
    expect(berlinGroupSpecPath('/connectpay/psd2/v1/payments/sepa-credit-transfers/P1/status')).toBe(
      '/v1/{payment-service}/{payment-product}/{paymentId}/status',
    );
    expect(berlinGroupSpecPath('/v1/accounts/A1/transactions?bookingStatus=both')).toBe('/v1/accounts/{account-id}/transactions');
    expect(berlinGroupSpecPath('/v1/payments/sepa-credit-transfers')).toBe('/v1/{payment-service}/{payment-product}');
    expect(berlinGroupSpecPath('/health')).toBeUndefined();
  });

  it('accepts a valid consent request and rejects one without access, naming the field', () => {
    const good = {
      access: { allPsd2: 'allAccounts' },
      recurringIndicator: true,
      validUntil: '2030-01-01',
      frequencyPerDay: 4,
      combinedServiceIndicator: false,
    };
    expect(validateBerlinGroupRequest('POST', '/v1/consents', good)).toEqual({ valid: true, errors: [] });
    const { access: _, ...bad } = good;
    const result = validateBerlinGroupRequest('POST', '/v1/consents', bad);
    expect(result.valid).toBe(false);
    expect(result.errors.join()).toMatch(/access/);
    expect(validateBerlinGroupRequest('POST', '/v1/consents', { ...good, validUntil: 'tomorrow' }).valid).toBe(false);
  });

  it('checks response bodies per status, including "no body" statuses', () => {
    expect(validateBerlinGroupResponse('GET', '/v1/consents/{consentId}/status', 200, { consentStatus: 'valid' }).valid).toBe(true);
    expect(validateBerlinGroupResponse('GET', '/v1/consents/{consentId}/status', 200, { consentStatus: 'approved' }).valid).toBe(false);
    expect(validateBerlinGroupResponse('GET', '/v1/consents/{consentId}/status', 200, {}).valid).toBe(false);
    expect(validateBerlinGroupResponse('DELETE', '/v1/consents/{consentId}', 204, undefined).valid).toBe(true);
    expect(validateBerlinGroupResponse('DELETE', '/v1/consents/{consentId}', 204, { x: 1 }).valid).toBe(false);
    expect(validateBerlinGroupResponse('GET', '/v1/consents/{consentId}/status', 418, {}).errors[0]).toMatch(/not documented/);
    expect(
      validateBerlinGroupResponse('POST', '/v1/{payment-service}/{payment-product}', 201, {
        transactionStatus: 'RCVD',
        paymentId: 'p',
        _links: {},
        transactionFeeIndicator: 'false',
      }).valid,
    ).toBe(false);
    expect(validateBerlinGroupResponse('GET', '/v1/accounts', 401, { tppMessages: [{ category: 'ERROR', code: 'CONSENT_INVALID', text: 'x' }] }).valid).toBe(
      true,
    );
    expect(validateBerlinGroupResponse('GET', '/v1/accounts', 401, { tppMessages: [{ category: 'FATAL', code: 'CONSENT_INVALID' }] }).valid).toBe(false);
  });

  it('throws on paths or methods that are not in the definition', () => {
    expect(() => validateBerlinGroupResponse('GET', '/v1/nothing', 200, {})).toThrow(/not in the Berlin Group definition/);
    expect(() => validateBerlinGroupResponse('PATCH', '/v1/consents', 200, {})).toThrow(/not in the Berlin Group definition/);
  });
});
