import { IsIP, IsOptional, IsString } from 'class-validator';
import { appBasics, type AppBasics, type AppMode } from './app.config.js';
import { defineConfig, pickEnv, validateEnv, type ConfigProblems, type Env } from './define-config.js';
import { monogramLogo, readLogoFile, type BankLogo } from './bank-logos.js';
import { readConfigFile, readSecretFile } from './files.js';
import { HttpUrl, Integer, ListOf, NonEmptyList, OneOf, Pattern, Text } from './rules.js';
import { ToList } from './transforms.js';

export const SERVICES = ['ais', 'pis'] as const;
export type Service = (typeof SERVICES)[number];

/** Adapter families: each bank names the adapter that speaks its dialect. */
export const ADAPTERS = ['connectpay', 'flowe'] as const;
export type AdapterKind = (typeof ADAPTERS)[number];

/**
 * How a bank counts the unattended uses of a consent against its `frequencyPerDay`:
 * `per_call` — every unattended request carrying the Consent-ID is one use, `_links.next` pages
 * included (the Flowe guide, 4.1: "the Consent-ID cannot be used more than frequencyPerDay … in
 * 24 hours … for unattended requests"); `per_resource` — uses are counted per consent and per
 * resource (the account list, an account's balances, its transactions) and a page continues the
 * read that fetched the first one (Berlin Group's implementation-guide reading). docs/banks.md says
 * why every bank defaults to `per_call`.
 */
export const BUDGET_COUNTINGS = ['per_call', 'per_resource'] as const;
export type BudgetCounting = (typeof BUDGET_COUNTINGS)[number];
export const PSU_IP_FORMATS = ['ipv4', 'ipv4-or-ipv6'] as const;
export type PsuIpFormat = (typeof PSU_IP_FORMATS)[number];

/** Berlin Group's spelling, and the Flowe guide's prose spelling ("PSU-IpAddress"). */
const PSU_IP_SPELLINGS = ['PSU-IP-Address', 'PSU-IpAddress'];
/** The Flowe guide's prose writes PO-APIKey (letter O), every HTTP sample P0-APIKey (zero). */
const FLOWE_KEY_SPELLINGS = ['PO-APIKey', 'P0-APIKey'];

/** Per-bank variables, read with the bank's prefix: `FLOWE_CLIENT_ID`, `CONNECTPAY_TOKEN_URL`, … */
class BankEnv {
  @Text(80) NAME!: string;
  /** Where the bank is (ISO 3166-1 alpha-2), for the frontend's bank list. */
  @IsOptional() @Pattern(/^[A-Z]{2}$/, 'must be an ISO 3166 country code such as IT') COUNTRY?: string;
  @IsOptional() @Pattern(/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/, 'must be a BIC of 8 or 11 characters such as SBXFIT21') BIC?: string;
  /** The bank's logo (SVG, PNG or WebP), served by the BFF at /aspsps/{id}/logo. */
  @IsOptional() @IsString() LOGO_FILE?: string;
  @OneOf(ADAPTERS) ADAPTER!: AdapterKind;
  @ListOf(SERVICES) SERVICES!: Service[];
  @HttpUrl() AUTHORIZE_URL!: string;
  @HttpUrl() TOKEN_URL!: string;
  @HttpUrl() AIS_BASE_URL!: string;
  @HttpUrl() PIS_BASE_URL!: string;
  @Text(200) CLIENT_ID!: string;
  @IsOptional() @IsString() CLIENT_SECRET?: string;
  @IsOptional() @IsString() CLIENT_SECRET_FILE?: string;
  /** Scopes always requested; then the per-service ones for the services the user asked for. */
  @IsOptional() @ToList() SCOPES_BASE: string[] = [];
  @NonEmptyList('scope') SCOPES_AIS!: string[];
  @NonEmptyList('scope') SCOPES_PIS!: string[];
  /** One spelling (kept for existing deployments); `SUBSCRIPTION_KEY_HEADERS` lists several. */
  @IsOptional() @Pattern(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name') SUBSCRIPTION_KEY_HEADER?: string;
  @IsOptional() @ToList() @Pattern(/^[A-Za-z0-9-]{1,64}$/, 'must be a comma-separated list of HTTP header names', true) SUBSCRIPTION_KEY_HEADERS?: string[];
  @IsOptional() @IsString() SUBSCRIPTION_KEY?: string;
  @IsOptional() @IsString() SUBSCRIPTION_KEY_FILE?: string;
  @IsOptional() @IsString() TLS_CERT_FILE?: string;
  @IsOptional() @IsString() TLS_KEY_FILE?: string;
  @IsOptional() @IsString() TLS_CA_FILE?: string;
  @IsOptional() @HttpUrl() REDIRECT_URI?: string;
  @NonEmptyList('currency') @Pattern(/^[A-Z]{3}$/, 'must be ISO 4217 currency codes such as EUR', true) CURRENCIES: string[] = ['EUR'];
  @IsOptional() @OneOf(['DEBT', 'CRED', 'SHAR', 'SLEV', 'NONE']) CHARGE_BEARER?: string;
  /** Header names the PSU's IP is sent under on attended requests (default per adapter, see below). */
  @IsOptional() @ToList() @Pattern(/^[A-Za-z0-9-]{1,64}$/, 'must be a comma-separated list of HTTP header names', true) PSU_IP_HEADERS?: string[];
  /** `ipv4`: the OpenAPI file's `format: ipv4`; `ipv4-or-ipv6`: the bank also takes IPv6 literals. */
  @OneOf(PSU_IP_FORMATS) PSU_IP_FORMAT: PsuIpFormat = 'ipv4';
  /** An IPv4 address sent instead of a PSU's native IPv6 address to an `ipv4` bank (e.g. the TPP's own egress address). */
  @IsOptional() @IsIP(4, { message: 'PSU_IP_FALLBACK must be an IPv4 address' }) PSU_IP_FALLBACK?: string;
  /** Total time for one bank call: waiting for a socket, the request, retries. */
  @Integer(100, 120_000) TIMEOUT_MS = 10_000;
  /** Safe against both readings: a plan that fits `per_call` also fits `per_resource` (docs/banks.md). */
  @OneOf(BUDGET_COUNTINGS) AIS_BUDGET_COUNTING: BudgetCounting = 'per_call';
  /** Consecutive failures (5xx, timeouts, unreachable, refused credentials) that open the bank's circuit. */
  @Integer(1, 1000) BREAKER_THRESHOLD = 5;
  /** How long an open circuit refuses calls before one is let through to probe the bank. */
  @Integer(100, 600_000) BREAKER_HALF_OPEN_MS = 10_000;
  /** At most one status request per resource this often, across every replica (Flowe guide 4.1 and 4.2: "no more than 1/sec"). */
  @Integer(0, 3_600_000) STATUS_MIN_INTERVAL_MS = 1000;
}

export interface BankTls {
  cert: Buffer;
  key: Buffer;
  /** The bank's CA; when unset, Node's public roots are used. */
  ca?: Buffer;
}

export interface BankConfig {
  id: string;
  name: string;
  country?: string;
  bic?: string;
  logo?: BankLogo;
  adapter: AdapterKind;
  services: Service[];
  authorizeUrl: string;
  tokenUrl: string;
  aisBaseUrl: string;
  pisBaseUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: { base: string[]; ais: string[]; pis: string[] };
  /** Sent under every listed header name: a gateway ignores a spelling it does not know. */
  subscriptionKey?: { headers: string[]; value: string };
  /** Where the PSU's IP goes on attended requests, and in which format (see docs/banks.md). */
  psuIp: { headers: string[]; format: PsuIpFormat; ipv6Fallback?: string };
  /** mTLS client certificate (the TPP's eIDAS QWAC) and, optionally, the bank's CA. */
  tls?: BankTls;
  redirectUri: string;
  currencies: string[];
  chargeBearer: string;
  timeoutMs: number;
  /** How the bank counts unattended uses of a consent (`<ID>_AIS_BUDGET_COUNTING`). */
  aisBudgetCounting: BudgetCounting;
  breaker: { threshold: number; halfOpenAfterMs: number };
  statusMinIntervalMs: number;
}

export interface BanksConfig {
  banks: BankConfig[];
}

const SANDBOX_FLOWE_SCOPE = 'https://sandbox.flowe.local/psd2';

/**
 * Where the sandbox ASPSP serves each bank (docs/sandbox.md). Only used in sandbox mode: in
 * production mode every bank variable must be given.
 */
function sandboxDefaults(id: string, sandboxUrl: string): Record<string, string> {
  if (id === 'connectpay') {
    return {
      NAME: 'ConnectPay',
      COUNTRY: 'LT',
      BIC: 'SBXCLT21',
      ADAPTER: 'connectpay',
      SERVICES: 'ais,pis',
      AUTHORIZE_URL: `${sandboxUrl}/connectpay/oauth/authorize`,
      TOKEN_URL: `${sandboxUrl}/connectpay/oauth/token`,
      AIS_BASE_URL: `${sandboxUrl}/connectpay/psd2/v1`,
      PIS_BASE_URL: `${sandboxUrl}/connectpay/psd2/v1`,
      CLIENT_ID: '3f0c7a52-8d6e-4b8e-9a51-1c2d3e4f5a6b',
      CLIENT_SECRET: 'connectpay-sandbox-secret',
      SCOPES_AIS: 'psd2-ais',
      SCOPES_PIS: 'psd2-pis',
    };
  }
  if (id === 'flowe') {
    return {
      NAME: 'Flowe',
      COUNTRY: 'IT',
      BIC: 'SBXFIT21',
      ADAPTER: 'flowe',
      SERVICES: 'ais,pis',
      AUTHORIZE_URL: `${sandboxUrl}/flowe/idp/oauth2/v2.0/authorize`,
      TOKEN_URL: `${sandboxUrl}/flowe/idp/oauth2/v2.0/token`,
      AIS_BASE_URL: `${sandboxUrl}/flowe/openbankingais/v1`,
      PIS_BASE_URL: `${sandboxUrl}/flowe/openbankingpis/v1`,
      CLIENT_ID: 'b6d4c1e2-7a3f-4e9b-8c21-0f5e6d7a8b9c',
      CLIENT_SECRET: 'flowe-sandbox-secret',
      SCOPES_BASE: `offline_access ${SANDBOX_FLOWE_SCOPE}/user_impersonation`,
      SCOPES_AIS: `${SANDBOX_FLOWE_SCOPE}/aisp`,
      SCOPES_PIS: `${SANDBOX_FLOWE_SCOPE}/pisp`,
      SUBSCRIPTION_KEY: 'flowe-sandbox-subscription-key',
      CHARGE_BEARER: 'DEBT',
    };
  }
  return {};
}

const FIELDS = Object.keys(new BankEnv());

/** The sandbox banks' stand-in logos (see monogramLogo). */
const SANDBOX_LOGOS: Record<string, BankLogo> = { connectpay: monogramLogo('ConnectPay', '#0b7a75'), flowe: monogramLogo('Flowe', '#5b3cc4') };

export const banksConfig = defineConfig('banks', (env, problems): BanksConfig => {
  const app = appBasics(env);
  const ids = (env.BANKS?.trim() || 'connectpay,flowe').split(/[,\s]+/).filter(Boolean);
  const valid = ids.filter((id) => /^[a-z][a-z0-9-]{1,30}$/.test(id));
  if (valid.length < ids.length) problems.add('BANKS must be a comma-separated list of lower-case bank ids', 'BANKS');
  const banks = valid.map((id) => parseBank(id, env, app, problems));
  problems.throwIfAny();
  return { banks: banks as BankConfig[] };
});

/** What a rule sees of one bank: its validated variables (by suffix) and where to report. */
interface BankRuleInput {
  id: string;
  /** `FLOWE_`: problems name the full variable. */
  prefix: string;
  mode: AppMode;
  raw: BankEnv;
  problems: ConfigProblems;
}

/**
 * Rules across a bank's variables, beyond each variable's own format. Every rule adds its problems
 * to the same run, so a start-up lists all of them at once; a new rule (for instance one that
 * applies only in production mode) is one more function in this list.
 */
const BANK_RULES: readonly ((bank: BankRuleInput) => void)[] = [
  clientSecretIsSet,
  subscriptionKeyHasValue,
  tlsCertAndKeyTogether,
  connectPayRedirectHasNoQuery,
  httpsInProduction,
  floweCredentialsInProduction,
];

function clientSecretIsSet({ prefix, raw, problems }: BankRuleInput): void {
  if (!raw.CLIENT_SECRET && !raw.CLIENT_SECRET_FILE)
    problems.add(`${prefix}CLIENT_SECRET or ${prefix}CLIENT_SECRET_FILE must be set`, `${prefix}CLIENT_SECRET`);
}

function subscriptionKeyHasValue({ prefix, raw, problems }: BankRuleInput): void {
  if ((raw.SUBSCRIPTION_KEY_HEADER || raw.SUBSCRIPTION_KEY_HEADERS?.length) && !raw.SUBSCRIPTION_KEY && !raw.SUBSCRIPTION_KEY_FILE) {
    problems.add(
      `${prefix}SUBSCRIPTION_KEY or ${prefix}SUBSCRIPTION_KEY_FILE must be set when ${prefix}SUBSCRIPTION_KEY_HEADERS is`,
      `${prefix}SUBSCRIPTION_KEY`,
    );
  }
}

/**
 * The key's header names: the list, else the single name, else the adapter's default (Flowe: both
 * spellings its guide uses), else a generic `Subscription-Key` for a bank that has a key but no name.
 */
function subscriptionKeyHeaders(raw: BankEnv): string[] {
  if (raw.SUBSCRIPTION_KEY_HEADERS?.length) return [...new Set(raw.SUBSCRIPTION_KEY_HEADERS)];
  if (raw.SUBSCRIPTION_KEY_HEADER) return [raw.SUBSCRIPTION_KEY_HEADER];
  return raw.ADAPTER === 'flowe' ? FLOWE_KEY_SPELLINGS : ['Subscription-Key'];
}

/** Flowe: both spellings (its guide's prose and Berlin Group's); any other bank: Berlin Group's. */
function psuIpHeaders(raw: BankEnv): string[] {
  if (raw.PSU_IP_HEADERS?.length) return [...new Set(raw.PSU_IP_HEADERS)];
  return raw.ADAPTER === 'flowe' ? PSU_IP_SPELLINGS : [PSU_IP_SPELLINGS[0]!];
}

function tlsCertAndKeyTogether({ prefix, raw, problems }: BankRuleInput): void {
  const [given, missing] = raw.TLS_CERT_FILE ? ['TLS_CERT_FILE', 'TLS_KEY_FILE'] : ['TLS_KEY_FILE', 'TLS_CERT_FILE'];
  if (Boolean(raw.TLS_CERT_FILE) !== Boolean(raw.TLS_KEY_FILE)) {
    problems.add(`${prefix}${missing} must be set when ${prefix}${given} is (a client certificate and its key go together)`, `${prefix}${missing}`);
  }
}

/** "Your callback URL cannot contain query parameters" (ConnectPay, Getting authCode); nor may a redirect URI have a fragment (RFC 6749 3.1.2). */
function connectPayRedirectHasNoQuery({ prefix, raw, problems }: BankRuleInput): void {
  if (raw.ADAPTER !== 'connectpay' || !raw.REDIRECT_URI || !URL.canParse(raw.REDIRECT_URI)) return;
  const url = new URL(raw.REDIRECT_URI);
  if (url.search || url.hash || raw.REDIRECT_URI.includes('?') || raw.REDIRECT_URI.includes('#')) {
    problems.add(
      `${prefix}REDIRECT_URI must not have a query string or fragment (ConnectPay refuses a callback URL with query parameters)`,
      `${prefix}REDIRECT_URI`,
    );
  }
}

const BANK_URLS = ['AUTHORIZE_URL', 'TOKEN_URL', 'AIS_BASE_URL', 'PIS_BASE_URL', 'REDIRECT_URI'] as const;

/**
 * Tokens, client secrets and account data travel on these URLs (the authorize URL carries the
 * state, the redirect URI the code): in production mode every one is https. A URL that is already
 * invalid has its own problem.
 */
function httpsInProduction({ prefix, mode, raw, problems }: BankRuleInput): void {
  if (mode !== 'production') return;
  for (const name of BANK_URLS) {
    const value = raw[name];
    if (value === undefined || problems.isInvalid(`${prefix}${name}`) || !URL.canParse(value)) continue;
    if (new URL(value).protocol !== 'https:') problems.add(`${prefix}${name} must be an https URL in production mode`, `${prefix}${name}`);
  }
}

/**
 * Flowe's guide: the token call and every API call go over mutual TLS with the TPP's eIDAS QWAC
 * (section 3, steps 5 and 8), and every API call carries the subscription key given at onboarding
 * (section 2). Without them every call fails at the bank: production mode refuses to start.
 */
function floweCredentialsInProduction({ prefix, mode, raw, problems }: BankRuleInput): void {
  if (mode !== 'production' || raw.ADAPTER !== 'flowe') return;
  for (const name of ['TLS_CERT_FILE', 'TLS_KEY_FILE'] as const) {
    if (!raw[name] && !problems.isInvalid(`${prefix}${name}`))
      problems.add(`${prefix}${name} must be set in production mode (Flowe requires mutual TLS with the TPP's eIDAS QWAC)`, `${prefix}${name}`);
  }
  if (!raw.SUBSCRIPTION_KEY && !raw.SUBSCRIPTION_KEY_FILE && !problems.isInvalid(`${prefix}SUBSCRIPTION_KEY`)) {
    problems.add(
      `${prefix}SUBSCRIPTION_KEY or ${prefix}SUBSCRIPTION_KEY_FILE must be set in production mode (Flowe's API gateway requires it)`,
      `${prefix}SUBSCRIPTION_KEY`,
    );
  }
}

function parseBank(id: string, env: Env, app: AppBasics, problems: ConfigProblems): BankConfig | undefined {
  const prefix = `${id.toUpperCase().replace(/-/g, '_')}_`;
  const defaults = app.mode === 'sandbox' ? sandboxDefaults(id, app.sandboxUrl) : {};
  const before = problems.list.length;
  const raw = validateEnv(BankEnv, { ...defaults, ...pickEnv(env, FIELDS, prefix) }, problems, prefix);
  for (const rule of BANK_RULES) rule({ id, prefix, mode: app.mode, raw, problems });
  const files = readFiles(raw, prefix, problems);
  const logo = raw.LOGO_FILE ? readLogoFile(raw.LOGO_FILE, `${prefix}LOGO_FILE`, problems) : app.mode === 'sandbox' ? SANDBOX_LOGOS[id] : undefined;
  // Building the typed config needs every variable valid; the problems are already recorded.
  if (problems.list.length > before) return undefined;

  const clientSecret = files.clientSecret ?? raw.CLIENT_SECRET!;
  const subscriptionValue = files.subscriptionKey ?? raw.SUBSCRIPTION_KEY;
  return {
    id,
    name: raw.NAME,
    ...(raw.COUNTRY ? { country: raw.COUNTRY } : {}),
    ...(raw.BIC ? { bic: raw.BIC } : {}),
    ...(logo ? { logo } : {}),
    adapter: raw.ADAPTER,
    services: [...new Set(raw.SERVICES)],
    authorizeUrl: raw.AUTHORIZE_URL,
    tokenUrl: raw.TOKEN_URL,
    aisBaseUrl: raw.AIS_BASE_URL.replace(/\/+$/, ''),
    pisBaseUrl: raw.PIS_BASE_URL.replace(/\/+$/, ''),
    clientId: raw.CLIENT_ID,
    clientSecret,
    scopes: { base: raw.SCOPES_BASE, ais: raw.SCOPES_AIS, pis: raw.SCOPES_PIS },
    subscriptionKey: subscriptionValue ? { headers: subscriptionKeyHeaders(raw), value: subscriptionValue } : undefined,
    psuIp: { headers: psuIpHeaders(raw), format: raw.PSU_IP_FORMAT, ...(raw.PSU_IP_FALLBACK ? { ipv6Fallback: raw.PSU_IP_FALLBACK } : {}) },
    tls: files.tls,
    // One redirect URI per bank is the mix-up defence (RFC 9700 4.4); it carries no query string.
    redirectUri: raw.REDIRECT_URI ?? `${app.publicUrl}/auth/${id}/callback`,
    currencies: raw.CURRENCIES,
    // Flowe's guide sends DEBT (section 4.2); SEPA's SLEV elsewhere unless configured.
    chargeBearer: raw.CHARGE_BEARER ?? (raw.ADAPTER === 'flowe' ? 'DEBT' : 'SLEV'),
    timeoutMs: raw.TIMEOUT_MS,
    aisBudgetCounting: raw.AIS_BUDGET_COUNTING,
    breaker: { threshold: raw.BREAKER_THRESHOLD, halfOpenAfterMs: raw.BREAKER_HALF_OPEN_MS },
    statusMinIntervalMs: raw.STATUS_MIN_INTERVAL_MS,
  };
}

interface BankFiles {
  clientSecret?: string;
  subscriptionKey?: string;
  tls?: BankTls;
}

/** Secrets and TLS material named by `*_FILE` variables; a missing or empty file is a problem. */
function readFiles(raw: BankEnv, prefix: string, problems: ConfigProblems): BankFiles {
  const secret = (path: string | undefined, name: string) => (path === undefined ? undefined : readSecretFile(path, `${prefix}${name}`, problems));
  const files: BankFiles = {
    clientSecret: secret(raw.CLIENT_SECRET_FILE, 'CLIENT_SECRET_FILE'),
    subscriptionKey: secret(raw.SUBSCRIPTION_KEY_FILE, 'SUBSCRIPTION_KEY_FILE'),
  };
  if (raw.TLS_CERT_FILE && raw.TLS_KEY_FILE) {
    const cert = readConfigFile(raw.TLS_CERT_FILE, `${prefix}TLS_CERT_FILE`, problems);
    const key = readConfigFile(raw.TLS_KEY_FILE, `${prefix}TLS_KEY_FILE`, problems);
    const ca = raw.TLS_CA_FILE ? readConfigFile(raw.TLS_CA_FILE, `${prefix}TLS_CA_FILE`, problems) : undefined;
    if (cert && key) files.tls = { cert, key, ca };
  }
  return files;
}
