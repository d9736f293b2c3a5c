import type { Service } from '../../config/banks.config.js';
import type { FieldError } from '../../common/errors/app-error.js';
import { AspspAdapter, type AuthorizationInput } from '../aspsp-adapter.js';
import type { ConsentRequestBody, ConsentTerms } from '../berlin-group/ais.js';
import { sepaCreditTransferBody, type PaymentOrder, type SepaCreditTransferBody } from '../berlin-group/pis.js';
import { consentRuleErrors, defaultConsentTerms, type ConsentLimits } from '../berlin-group/consent-rules.js';

/** Flowe's Azure B2C sign-in policy, sent as `p` on both the authorize and the token request. */
export const FLOWE_POLICY = 'B2C_1A_Psd2_SignIn';

/** Flowe guide 4.1 policies b and c: validUntil ≤ today (UTC) + 90 days, frequencyPerDay ≤ 4. */
const FLOWE_AIS: Omit<ConsentLimits, 'source'> = { maxFrequencyPerDay: 4, maxValidDays: 90 };

/**
 * Flowe (Open Banking Interface v2.0.0): Azure B2C IdP with `p=B2C_1A_Psd2_SignIn` and
 * `prompt=login`; the scope string is `offline_access` + `user_impersonation` + `aisp` and/or
 * `pisp` (the role not needed is dropped); no PKCE (forbidden: the backend is the confidential
 * client); the token request repeats the scope and goes over mutual TLS with the TPP's QWAC.
 * 90 days after the first login every refresh token is refused: the PSU must log in again.
 */
export class FloweAdapter extends AspspAdapter {
  readonly usesNonce = false;
  readonly standardRedirectParam = true;
  readonly reloginAfterDays = 90;

  authorizationParams(input: AuthorizationInput): Record<string, string> {
    return { p: FLOWE_POLICY, prompt: 'login', scope: this.scopesFor(input.services).join(' ') };
  }

  /**
   * The guide's token requests carry `scope` (section 3, steps 5 and 9). The code exchange also
   * repeats the redirect URI, as RFC 6749 4.1.3 requires when the authorize request had one: the
   * guide's sample leaves it out, the IdP (Azure B2C) takes it, and it ties the code to the
   * redirect URI it was issued for (docs/banks.md, ambiguity 16).
   */
  tokenParams(grant: 'authorization_code' | 'refresh_token', services: Service[]): Record<string, string> {
    return { scope: this.scopesFor(services).join(' '), ...(grant === 'authorization_code' ? { redirect_uri: this.bank.redirectUri } : {}) };
  }

  override tokenEndpoint(): string {
    const url = new URL(this.bank.tokenUrl);
    if (!url.searchParams.has('p')) url.searchParams.set('p', FLOWE_POLICY);
    return url.toString();
  }

  consentTerms(requested: Partial<ConsentTerms>, today: string): ConsentTerms {
    return defaultConsentTerms(requested, today, this.aisLimits());
  }

  validateConsent(terms: ConsentTerms, today: string): FieldError[] {
    const errors = consentRuleErrors(terms, today, this.aisLimits());
    // Guide 4.1 policy a: "recurringIndicator must always be true. In case you need One-Shot
    // consent just set frequencyPerDay: 1 and validUntil: <TODAY_UTC>".
    if (!terms.recurringIndicator) {
      errors.push({
        field: 'recurringIndicator',
        message: `${this.bank.name} rule: must be true; for a one-shot consent send frequencyPerDay 1 and validUntil today (UTC)`,
      });
    }
    return errors;
  }

  /** Global consent (guide 4.1 step 2): all accounts, balances and transactions; the PSU accepts all or nothing. */
  consentBody(terms: ConsentTerms): ConsentRequestBody {
    return { access: { availableAccounts: 'allAccounts', allPsd2: 'allAccounts' }, ...terms, combinedServiceIndicator: false };
  }

  /**
   * Guide 4.2: only IBAN is allowed as an account reference, EUR, and the sample sends
   * `chargeBearer: "DEBT"` (FLOWE_CHARGE_BEARER, default DEBT in sandbox mode and .env.example).
   */
  paymentBody(order: PaymentOrder): SepaCreditTransferBody {
    return sepaCreditTransferBody(order, this.bank.chargeBearer);
  }

  aisLimits(): ConsentLimits {
    const rule = `${this.bank.name} rule`;
    return { ...FLOWE_AIS, source: { frequency: rule, validity: rule } };
  }
}
