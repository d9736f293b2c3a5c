import { existsSync, readFileSync } from 'node:fs';
import { ArrayNotEmpty, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min } from 'class-validator';
import { appConfig } from './app.config.js';
import { ConfigError, defineConfig, pickEnv, validateEnv, type Env } from './define-config.js';
import { ToInt, ToList } from './transforms.js';

export const SERVICES = ['ais', 'pis'] as const;
export type Service = (typeof SERVICES)[number];

/** Adapter families: each bank names the adapter that speaks its dialect. */
export const ADAPTERS = ['connectpay', 'flowe'] as const;
export type AdapterKind = (typeof ADAPTERS)[number];

const url = { require_tld: false, protocols: ['http', 'https'], require_protocol: true };

/** Per-bank variables, read with the bank's prefix: `FLOWE_CLIENT_ID`, `CONNECTPAY_TOKEN_URL`, … */
class BankEnv {
  @IsString() @MaxLength(80) NAME!: string;
  @IsIn(ADAPTERS) ADAPTER!: AdapterKind;
  @ToList() @ArrayNotEmpty() @IsIn(SERVICES, { each: true }) SERVICES!: Service[];
  @IsUrl(url) AUTHORIZE_URL!: string;
  @IsUrl(url) TOKEN_URL!: string;
  @IsUrl(url) AIS_BASE_URL!: string;
  @IsUrl(url) PIS_BASE_URL!: string;
  @IsString() @MaxLength(200) CLIENT_ID!: string;
  @IsOptional() @IsString() CLIENT_SECRET?: string;
  @IsOptional() @IsString() CLIENT_SECRET_FILE?: string;
  /** Scopes always requested; then the per-service ones for the services the user asked for. */
  @IsOptional() @ToList() SCOPES_BASE: string[] = [];
  @ToList() @ArrayNotEmpty() SCOPES_AIS!: string[];
  @ToList() @ArrayNotEmpty() SCOPES_PIS!: string[];
  @IsOptional() @Matches(/^[A-Za-z0-9-]{1,64}$/, { message: 'SUBSCRIPTION_KEY_HEADER must be an HTTP header name' }) SUBSCRIPTION_KEY_HEADER?: string;
  @IsOptional() @IsString() SUBSCRIPTION_KEY?: string;
  @IsOptional() @IsString() SUBSCRIPTION_KEY_FILE?: string;
  @IsOptional() @IsString() TLS_CERT_FILE?: string;
  @IsOptional() @IsString() TLS_KEY_FILE?: string;
  @IsOptional() @IsString() TLS_CA_FILE?: string;
  @IsOptional() @IsUrl(url) REDIRECT_URI?: string;
  @ToList() @ArrayNotEmpty() @Matches(/^[A-Z]{3}$/, { each: true, message: 'CURRENCIES must be ISO 4217 codes' }) CURRENCIES: string[] = ['EUR'];
  @IsOptional() @IsIn(['DEBT', 'CRED', 'SHAR', 'SLEV', 'NONE']) CHARGE_BEARER?: string;
  @ToInt() @IsInt() @Min(100) @Max(120_000) TIMEOUT_MS = 10_000;
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
  adapter: AdapterKind;
  services: Service[];
  authorizeUrl: string;
  tokenUrl: string;
  aisBaseUrl: string;
  pisBaseUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: { base: string[]; ais: string[]; pis: string[] };
  subscriptionKey?: { header: string; value: string };
  /** mTLS client certificate (the TPP's eIDAS QWAC) and, optionally, the bank's CA. */
  tls?: BankTls;
  redirectUri: string;
  currencies: string[];
  chargeBearer: string;
  timeoutMs: number;
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
      SUBSCRIPTION_KEY_HEADER: 'PO-APIKey',
      SUBSCRIPTION_KEY: 'flowe-sandbox-subscription-key',
      CHARGE_BEARER: 'DEBT',
    };
  }
  return {};
}

const FIELDS = Object.keys(new BankEnv()).concat(
  'NAME', 'ADAPTER', 'SERVICES', 'AUTHORIZE_URL', 'TOKEN_URL', 'AIS_BASE_URL', 'PIS_BASE_URL', 'CLIENT_ID',
  'CLIENT_SECRET', 'CLIENT_SECRET_FILE', 'SCOPES_AIS', 'SCOPES_PIS', 'SUBSCRIPTION_KEY_HEADER', 'SUBSCRIPTION_KEY',
  'SUBSCRIPTION_KEY_FILE', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'TLS_CA_FILE', 'REDIRECT_URI',
);

export const banksConfig = defineConfig('banks', (env): BanksConfig => {
  const app = appConfig.parse(env);
  const ids = (env.BANKS?.trim() || 'connectpay,flowe').split(/[,\s]+/).filter(Boolean);
  for (const id of ids) {
    if (!/^[a-z][a-z0-9-]{1,30}$/.test(id)) throw new ConfigError('BANKS must be a comma-separated list of lower-case bank ids');
  }
  return { banks: ids.map((id) => parseBank(id, env, app.mode === 'sandbox' ? sandboxDefaults(id, app.sandboxUrl) : {}, app.publicUrl)) };
});

function parseBank(id: string, env: Env, defaults: Record<string, string>, publicUrl: string): BankConfig {
  const prefix = `${id.toUpperCase().replace(/-/g, '_')}_`;
  const raw = validateEnv(BankEnv, { ...defaults, ...pickEnv(env, [...new Set(FIELDS)], prefix) }, prefix);
  const clientSecret = secret(raw.CLIENT_SECRET, raw.CLIENT_SECRET_FILE, `${prefix}CLIENT_SECRET`);
  if (!clientSecret) throw new ConfigError(`${prefix}CLIENT_SECRET or ${prefix}CLIENT_SECRET_FILE must be set`);
  const subscriptionValue = secret(raw.SUBSCRIPTION_KEY, raw.SUBSCRIPTION_KEY_FILE, `${prefix}SUBSCRIPTION_KEY`);
  if (raw.SUBSCRIPTION_KEY_HEADER && !subscriptionValue) {
    throw new ConfigError(`${prefix}SUBSCRIPTION_KEY or ${prefix}SUBSCRIPTION_KEY_FILE must be set when ${prefix}SUBSCRIPTION_KEY_HEADER is`);
  }
  return {
    id,
    name: raw.NAME,
    adapter: raw.ADAPTER,
    services: [...new Set(raw.SERVICES)],
    authorizeUrl: raw.AUTHORIZE_URL,
    tokenUrl: raw.TOKEN_URL,
    aisBaseUrl: raw.AIS_BASE_URL.replace(/\/+$/, ''),
    pisBaseUrl: raw.PIS_BASE_URL.replace(/\/+$/, ''),
    clientId: raw.CLIENT_ID,
    clientSecret,
    scopes: { base: raw.SCOPES_BASE, ais: raw.SCOPES_AIS, pis: raw.SCOPES_PIS },
    subscriptionKey: raw.SUBSCRIPTION_KEY_HEADER && subscriptionValue ? { header: raw.SUBSCRIPTION_KEY_HEADER, value: subscriptionValue } : undefined,
    tls: tls(raw, prefix),
    // One redirect URI per bank is the mix-up defence (RFC 9700 4.4); it carries no query string.
    redirectUri: raw.REDIRECT_URI ?? `${publicUrl}/auth/${id}/callback`,
    currencies: raw.CURRENCIES,
    // Flowe's guide sends DEBT (section 4.2); SEPA's SLEV elsewhere unless configured.
    chargeBearer: raw.CHARGE_BEARER ?? (raw.ADAPTER === 'flowe' ? 'DEBT' : 'SLEV'),
    timeoutMs: raw.TIMEOUT_MS,
  };
}

function secret(value: string | undefined, file: string | undefined, name: string): string | undefined {
  if (file) return readFile(file, `${name}_FILE`).toString('utf8').trim();
  return value;
}

function readFile(path: string, name: string): Buffer {
  if (!existsSync(path)) throw new ConfigError(`${name} points to a file that does not exist`);
  return readFileSync(path);
}

function tls(raw: BankEnv, prefix: string): BankTls | undefined {
  if (!raw.TLS_CERT_FILE && !raw.TLS_KEY_FILE) return undefined;
  if (!raw.TLS_CERT_FILE || !raw.TLS_KEY_FILE) {
    throw new ConfigError(`${prefix}TLS_CERT_FILE and ${prefix}TLS_KEY_FILE must be set together`);
  }
  return {
    cert: readFile(raw.TLS_CERT_FILE, `${prefix}TLS_CERT_FILE`),
    key: readFile(raw.TLS_KEY_FILE, `${prefix}TLS_KEY_FILE`),
    ca: raw.TLS_CA_FILE ? readFile(raw.TLS_CA_FILE, `${prefix}TLS_CA_FILE`) : undefined,
  };
}
