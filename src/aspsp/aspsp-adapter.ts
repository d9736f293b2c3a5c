import type { BankConfig, Service } from '../config/banks.config.js';
import type { FieldError } from '../common/errors/app-error.js';
import { BerlinGroupAis, type ConsentRequestBody, type ConsentTerms } from './berlin-group/ais.js';
import { BerlinGroupClient } from './berlin-group/berlin-group.client.js';
import type { ConsentLimits } from './berlin-group/consent-rules.js';
import { BerlinGroupPis, type PaymentOrder, type SepaCreditTransferBody } from './berlin-group/pis.js';
import type { BankHttpClient } from './http/bank-http.client.js';
import { TokenClient } from './oauth/token.client.js';

export interface AuthorizationInput {
  services: Service[];
  /** The single-use state, already stored hashed. */
  state: string;
  /** A GUIDv4 nonce for banks that require one (ConnectPay), stored hashed with the state. */
  nonce?: string;
}

export interface CallbackParams {
  state?: string;
  code?: string;
  error?: string;
}

/**
 * The bank port. One implementation per bank family translates between our domain and the bank's
 * dialect; everything else in the BFF speaks only to this class (obtained from AspspRegistry).
 * ConnectPay and Flowe differ only where their documents say so.
 */
export abstract class AspspAdapter {
  readonly tokens: TokenClient;
  /** The bank's NextGenPSD2 API (AIS and PIS), with this bank's headers and error mapping. */
  readonly api: BerlinGroupClient;
  /** Berlin Group AIS on this bank: consents, accounts, balances, transactions. */
  readonly ais: BerlinGroupAis;
  /** Berlin Group PIS on this bank: SEPA credit transfers, their status and cancellation. */
  readonly pis: BerlinGroupPis;

  constructor(
    readonly bank: BankConfig,
    readonly http: BankHttpClient,
  ) {
    this.api = new BerlinGroupClient(bank, http);
    this.ais = new BerlinGroupAis(this.api, bank.id);
    this.pis = new BerlinGroupPis(this.api, bank.id);
    this.tokens = new TokenClient(bank, http, {
      endpoint: () => this.tokenEndpoint(),
      params: (grant, services) => this.tokenParams(grant, services),
    });
  }

  get id(): string {
    return this.bank.id;
  }

  /** True when the authorize request carries a nonce (ConnectPay: a GUIDv4). */
  abstract readonly usesNonce: boolean;

  /**
   * Whether the redirect URI goes in the standard `redirect_uri` parameter. ConnectPay names it
   * `redirect_url`, which its adapter adds itself.
   */
  abstract readonly standardRedirectParam: boolean;

  /** Days after the first login when the bank refuses every refresh token (Flowe: 90). */
  abstract readonly reloginAfterDays?: number;

  /** The bank's own authorize parameters, beyond response_type, client_id, state (and redirect_uri). */
  abstract authorizationParams(input: AuthorizationInput): Record<string, string>;

  /** Extra form parameters for the token endpoint, for a connection with these services. */
  abstract tokenParams(grant: 'authorization_code' | 'refresh_token', services: Service[]): Record<string, string>;

  /** The token endpoint URL (Flowe adds its policy parameter). */
  tokenEndpoint(): string {
    return this.bank.tokenUrl;
  }

  /** Scopes for the requested services: the bank's base scopes plus one set per service. */
  scopesFor(services: Service[]): string[] {
    return [...this.bank.scopes.base, ...services.flatMap((s) => this.bank.scopes[s])];
  }

  /** Reads the callback's query; banks differ in what they send on denial. */
  parseCallback(query: Record<string, unknown>): CallbackParams {
    const pick = (key: string) => (typeof query[key] === 'string' && query[key] !== '' ? (query[key] as string).slice(0, 2048) : undefined);
    return { state: pick('state'), code: pick('code'), error: pick('error') };
  }

  /** AIS: the longest validity and highest frequency this bank accepts for a consent, and whose rule each is. */
  abstract aisLimits(): ConsentLimits;

  /** AIS: the terms this bank applies to a consent request, with its defaults for what was left out (today = UTC date). */
  abstract consentTerms(requested: Partial<ConsentTerms>, today: string): ConsentTerms;

  /** AIS: this bank's consent rules; each error names the field and the rule. Empty = the bank will accept it. */
  abstract validateConsent(terms: ConsentTerms, today: string): FieldError[];

  /** AIS: the `POST /consents` body for these terms, in this bank's dialect (access shape). */
  abstract consentBody(terms: ConsentTerms): ConsentRequestBody;

  /** PIS: the currencies this bank accepts for a SEPA credit transfer (configured; Flowe: EUR only). */
  paymentCurrencies(): readonly string[] {
    return this.bank.currencies;
  }

  /** PIS: the `POST /payments/sepa-credit-transfers` body for an order, in this bank's dialect. */
  abstract paymentBody(order: PaymentOrder): SepaCreditTransferBody;
}
