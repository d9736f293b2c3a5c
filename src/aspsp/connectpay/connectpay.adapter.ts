import type { FieldError } from '../../common/errors/app-error.js';
import { AspspAdapter, type AuthorizationInput } from '../aspsp-adapter.js';
import type { ConsentRequestBody, ConsentTerms } from '../berlin-group/ais.js';
import { sepaCreditTransferBody, type PaymentOrder, type SepaCreditTransferBody } from '../berlin-group/pis.js';
import { consentRuleErrors, defaultConsentTerms, type ConsentLimits } from '../berlin-group/consent-rules.js';
import { addDays } from '../berlin-group/dates.js';

/**
 * ConnectPay's document is silent on AIS, so neither limit is ConnectPay's: `frequencyPerDay` ≤ 4 is
 * the Berlin Group OpenAPI file's bound ("if not otherwise agreed bilaterally"), and 90 days is our
 * assumption (docs/banks.md). A longer validUntil (e.g. Berlin Group's "9999-12-31" = as long as
 * allowed) is capped, as the spec lets a bank adjust it, so we store what we expect the bank to apply.
 */
const CONNECTPAY_AIS: ConsentLimits = {
  maxFrequencyPerDay: 4,
  maxValidDays: 90,
  source: { frequency: 'Berlin Group rule', validity: 'tpp-bff limit (assumed: ConnectPay names none)' },
};

/**
 * ConnectPay ("Generate authCode via API"): the authorize request carries `flowid=GetPSD2AuthCode`,
 * a GUIDv4 `nonce`, PSD2 scopes only (mixing with proprietary scopes is an error) and the callback
 * as `redirect_url` (not `redirect_uri`; no query string allowed). On denial the callback has
 * `state`, `flowid` and `error` but no `code`. Token refresh is not documented: RFC 6749 applies.
 */
export class ConnectPayAdapter extends AspspAdapter {
  readonly usesNonce = true;
  readonly standardRedirectParam = false;
  readonly reloginAfterDays = undefined;

  authorizationParams(input: AuthorizationInput): Record<string, string> {
    if (!input.nonce) throw new Error('ConnectPay requires a nonce');
    const scopes = this.scopesFor(input.services).filter((s) => s.startsWith('psd2-'));
    return {
      flowid: 'GetPSD2AuthCode',
      nonce: input.nonce,
      redirect_url: this.bank.redirectUri,
      scope: scopes.join(' '),
    };
  }

  tokenParams(grant: 'authorization_code' | 'refresh_token'): Record<string, string> {
    return grant === 'authorization_code' ? { redirect_url: this.bank.redirectUri } : {};
  }

  consentTerms(requested: Partial<ConsentTerms>, today: string): ConsentTerms {
    const terms = defaultConsentTerms(requested, today, this.aisLimits());
    const max = addDays(today, CONNECTPAY_AIS.maxValidDays);
    return terms.validUntil > max ? { ...terms, validUntil: max } : terms;
  }

  validateConsent(terms: ConsentTerms, today: string): FieldError[] {
    return consentRuleErrors(terms, today, this.aisLimits());
  }

  /** Every account with balances and transactions (Berlin Group `allPsd2`). */
  consentBody(terms: ConsentTerms): ConsentRequestBody {
    return { access: { allPsd2: 'allAccounts' }, ...terms, combinedServiceIndicator: false };
  }

  /**
   * ConnectPay's document covers only its auth flow: PIS is assumed to be Berlin Group v1.3
   * sepa-credit-transfers with IBAN-only accounts and the configured charge bearer (default SLEV).
   */
  paymentBody(order: PaymentOrder): SepaCreditTransferBody {
    return sepaCreditTransferBody(order, this.bank.chargeBearer);
  }

  aisLimits(): ConsentLimits {
    return CONNECTPAY_AIS;
  }
}
