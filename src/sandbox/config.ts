import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogLevel } from '@nestjs/common';
import { DEFAULT_MODES, ModeError, parseModes, type BankModes } from './modes/bank-modes.js';
import { modesFromEnv } from './modes/modes-from-env.js';

/** The two simulated banks. Every route, token, consent and payment belongs to one of them. */
export type Profile = 'connectpay' | 'flowe';
export const PROFILES: readonly Profile[] = ['connectpay', 'flowe'];

export function isProfile(value: unknown): value is Profile {
  return value === 'connectpay' || value === 'flowe';
}

/** Azure B2C policy named in the Flowe guide (section 3, step 1). */
export const FLOWE_POLICY = 'B2C_1A_Psd2_SignIn';

/**
 * Flowe scope URIs. The guide's sandbox scopes live under a b2clogin tenant; the simulator uses its own
 * host so nobody mistakes them for the real ones. The structure (offline_access + user_impersonation +
 * aisp and/or pisp) is the guide's (Table 1).
 */
export const FLOWE_SCOPES = {
  offlineAccess: 'offline_access',
  userImpersonation: 'https://sandbox.flowe.local/psd2/user_impersonation',
  aisp: 'https://sandbox.flowe.local/psd2/aisp',
  pisp: 'https://sandbox.flowe.local/psd2/pisp',
} as const;

/** ConnectPay PSD2 scopes ("Getting authCode"); PSD2 and proprietary scopes are never mixed. */
export const CONNECTPAY_PSD2_SCOPES = ['psd2-ais', 'psd2-pis'] as const;
/** Proprietary "Connect" scopes the sandbox recognises only to refuse mixing them with PSD2 scopes. */
export const CONNECTPAY_PROPRIETARY_SCOPES = ['accounts', 'payments', 'cards', 'openid', 'profile', 'offline_access'] as const;

export interface ConnectPayClientConfig {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Hostnames allowed in `redirect_url` (ConnectPay validates the host only, "callback URL list"). */
  readonly callbackHosts: readonly string[];
}

export interface FloweClientConfig {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Exact registered redirect URIs. */
  readonly redirectUris: readonly string[];
  /** Also accept http://localhost:<any port>/auth/flowe/callback (and 127.0.0.1): tests run the BFF on random ports. */
  readonly allowLocalCallbackOnAnyPort: boolean;
  /** Sent as `PO-APIKey` or `P0-APIKey` (the guide writes both): which spelling counts is the `subscriptionKeyHeader` mode. */
  readonly subscriptionKey: string;
}

export interface SandboxTlsOptions {
  /** 0 = random port. */
  readonly port?: number;
  /** PEM contents (not paths). */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** CA that client certificates must chain to. */
  readonly ca: string | Buffer;
  /**
   * One more TLS listener per bank (0 = random port; default: random), serving everything the shared
   * one serves. Only there can `POST /admin/config-faults {tls:"refuse-handshake"}` fail the TLS
   * handshake itself: the shared listener does not know which bank a connection is for until a request arrives.
   */
  readonly bankPorts?: Partial<Record<Profile, number>>;
}

/** Everything `createSandboxApp` accepts; every field has a default. */
export interface SandboxOptions {
  readonly port?: number;
  readonly host?: string;
  readonly tls?: SandboxTlsOptions;
  /** Shorthand for `modes.<bank>.requireMtls` on both banks (a per-bank mode wins). */
  readonly requireMtls?: boolean;
  /** Per-bank readings of the documents (src/sandbox/modes/bank-modes.ts); unset fields keep the defaults. */
  readonly modes?: Partial<Record<Profile, Partial<BankModes>>>;
  /** Origin used for absolute URLs (login page redirects). Default: the origin the request came in on. */
  readonly publicUrl?: string;
  readonly connectpay?: Partial<ConnectPayClientConfig>;
  readonly flowe?: Partial<FloweClientConfig>;
  readonly accessTokenTtlSeconds?: number;
  readonly connectpayCodeTtlSeconds?: number;
  readonly floweCodeTtlSeconds?: number;
  /** Flowe refuses every refresh this many days after the login that started the chain. */
  readonly floweReloginDays?: number;
  /** Seconds (sandbox clock) between PSU approval (ACSP) and settlement (ACSC / RJCT). */
  readonly settlementSeconds?: number;
  /** Payments to this creditor IBAN are rejected by "clearing" (RJCT) after settlement. */
  readonly rejectCreditorIban?: string;
  /** Payments to this creditor IBAN settle (ACSC) and are rejected by clearing `lateRejectSeconds` later (RJCT after ACSC). */
  readonly lateRejectCreditorIban?: string;
  readonly lateRejectSeconds?: number;
  readonly transactionsPageSize?: number;
  /** Nest logger levels, or false to silence (tests). */
  readonly logger?: false | LogLevel[];
}

export interface SandboxConfig {
  readonly port: number;
  readonly host: string;
  readonly tls?: SandboxTlsOptions;
  readonly modes: Readonly<Record<Profile, BankModes>>;
  readonly publicUrl?: string;
  readonly connectpay: ConnectPayClientConfig;
  readonly flowe: FloweClientConfig;
  readonly accessTokenTtlSeconds: number;
  readonly connectpayCodeTtlSeconds: number;
  readonly floweCodeTtlSeconds: number;
  readonly floweReloginDays: number;
  readonly settlementSeconds: number;
  readonly rejectCreditorIban: string;
  readonly lateRejectCreditorIban: string;
  readonly lateRejectSeconds: number;
  readonly transactionsPageSize: number;
  readonly logger: false | LogLevel[];
}

/** Injection token for the resolved config. */
export const SANDBOX_CONFIG = Symbol('SANDBOX_CONFIG');

export const DEFAULT_CONNECTPAY_CLIENT: ConnectPayClientConfig = {
  clientId: '3f0c7a52-8d6e-4b8e-9a51-1c2d3e4f5a6b',
  clientSecret: 'connectpay-sandbox-secret',
  callbackHosts: ['localhost', '127.0.0.1'],
};

export const DEFAULT_FLOWE_CLIENT: FloweClientConfig = {
  clientId: 'b6d4c1e2-7a3f-4e9b-8c21-0f5e6d7a8b9c',
  clientSecret: 'flowe-sandbox-secret',
  redirectUris: ['http://localhost:3000/auth/flowe/callback', 'http://127.0.0.1:3000/auth/flowe/callback'],
  allowLocalCallbackOnAnyPort: true,
  subscriptionKey: 'flowe-sandbox-subscription-key',
};

/** A valid Italian IBAN reserved for "the clearing network rejects this payment" (pac.002 RJCT). */
export const DEFAULT_REJECT_CREDITOR_IBAN = 'IT24M1234512345000000999999';
/** A valid Italian IBAN whose payments settle, then come back rejected by clearing (pac.002 RJCT after ACSC). */
export const DEFAULT_LATE_REJECT_CREDITOR_IBAN = 'IT47L1234512345000000999998';

export function resolveSandboxConfig(options: SandboxOptions = {}): SandboxConfig {
  return {
    port: options.port ?? 3100,
    host: options.host ?? '127.0.0.1',
    tls: options.tls,
    modes: { connectpay: resolveModes('connectpay', options), flowe: resolveModes('flowe', options) },
    publicUrl: options.publicUrl?.replace(/\/+$/, ''),
    connectpay: { ...DEFAULT_CONNECTPAY_CLIENT, ...stripUndefined(options.connectpay ?? {}) },
    flowe: { ...DEFAULT_FLOWE_CLIENT, ...stripUndefined(options.flowe ?? {}) },
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
    connectpayCodeTtlSeconds: options.connectpayCodeTtlSeconds ?? 24 * 3600,
    floweCodeTtlSeconds: options.floweCodeTtlSeconds ?? 600,
    floweReloginDays: options.floweReloginDays ?? 90,
    settlementSeconds: options.settlementSeconds ?? 2,
    rejectCreditorIban: options.rejectCreditorIban ?? DEFAULT_REJECT_CREDITOR_IBAN,
    lateRejectCreditorIban: options.lateRejectCreditorIban ?? DEFAULT_LATE_REJECT_CREDITOR_IBAN,
    lateRejectSeconds: options.lateRejectSeconds ?? 60,
    transactionsPageSize: options.transactionsPageSize ?? 50,
    logger: options.logger ?? ['log', 'warn', 'error'],
  };
}

function resolveModes(profile: Profile, options: SandboxOptions): BankModes {
  const shorthand = options.requireMtls === undefined ? {} : { requireMtls: options.requireMtls };
  let given: Partial<BankModes>;
  try {
    given = parseModes(stripUndefined(options.modes?.[profile] ?? {}), `modes.${profile}`);
  } catch (error) {
    throw new SandboxConfigError(`modes.${profile}: ${(error as Error).message}`);
  }
  return { ...DEFAULT_MODES[profile], ...shorthand, ...given };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Thrown for a bad environment variable; names the variable, never prints a secret's value. */
export class SandboxConfigError extends Error {}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the sandbox's environment variables (the only place besides main.ts that looks at the environment).
 * Cert files: SANDBOX_TLS_CERT_FILE / _KEY_FILE / _CA_FILE, or `<cwd>/.data/sandbox-certs/` when present.
 */
export function sandboxOptionsFromEnv(env: Env, cwd: string): SandboxOptions {
  const int = (name: string, min: number, max: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new SandboxConfigError(`${name} must be an integer between ${min} and ${max}`);
    }
    return value;
  };
  const bool = (name: string): boolean | undefined => {
    const raw = env[name]?.toLowerCase();
    if (raw === undefined || raw === '') return undefined;
    if (['1', 'true', 'yes'].includes(raw)) return true;
    if (['0', 'false', 'no'].includes(raw)) return false;
    throw new SandboxConfigError(`${name} must be true or false`);
  };
  const str = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const list = (name: string): string[] | undefined =>
    str(name)
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');

  return {
    port: int('SANDBOX_PORT', 0, 65535),
    host: str('SANDBOX_HOST'),
    publicUrl: str('SANDBOX_PUBLIC_URL'),
    requireMtls: bool('SANDBOX_REQUIRE_MTLS'),
    tls: tlsFromEnv(env, cwd, int('SANDBOX_TLS_PORT', 0, 65535) ?? 3101, {
      connectpay: int('SANDBOX_CONNECTPAY_TLS_PORT', 0, 65535),
      flowe: int('SANDBOX_FLOWE_TLS_PORT', 0, 65535),
    }),
    modes: modesOf(env),
    connectpay: {
      clientId: str('SANDBOX_CONNECTPAY_CLIENT_ID'),
      clientSecret: str('SANDBOX_CONNECTPAY_CLIENT_SECRET'),
      callbackHosts: list('SANDBOX_CONNECTPAY_CALLBACK_HOSTS'),
    },
    flowe: {
      clientId: str('SANDBOX_FLOWE_CLIENT_ID'),
      clientSecret: str('SANDBOX_FLOWE_CLIENT_SECRET'),
      subscriptionKey: str('SANDBOX_FLOWE_SUBSCRIPTION_KEY'),
      redirectUris: list('SANDBOX_FLOWE_REDIRECT_URIS'),
    },
    accessTokenTtlSeconds: int('SANDBOX_ACCESS_TOKEN_TTL_SECONDS', 1, 31_536_000),
    settlementSeconds: int('SANDBOX_SETTLEMENT_SECONDS', 0, 31_536_000),
    rejectCreditorIban: str('SANDBOX_REJECT_CREDITOR_IBAN'),
    lateRejectCreditorIban: str('SANDBOX_LATE_REJECT_CREDITOR_IBAN'),
    lateRejectSeconds: int('SANDBOX_LATE_REJECT_SECONDS', 0, 31_536_000),
    transactionsPageSize: int('SANDBOX_TRANSACTIONS_PAGE_SIZE', 1, 1000),
  };
}

function modesOf(env: Env): SandboxOptions['modes'] {
  try {
    return { connectpay: modesFromEnv(env, 'connectpay'), flowe: modesFromEnv(env, 'flowe') };
  } catch (error) {
    if (error instanceof ModeError) throw new SandboxConfigError(error.message);
    throw error;
  }
}

function tlsFromEnv(env: Env, cwd: string, port: number, bankPorts: Partial<Record<Profile, number | undefined>>): SandboxTlsOptions | undefined {
  const files = ['SANDBOX_TLS_CERT_FILE', 'SANDBOX_TLS_KEY_FILE', 'SANDBOX_TLS_CA_FILE'] as const;
  const given = files.filter((name) => (env[name] ?? '') !== '');
  let paths: { cert: string; key: string; ca: string } | undefined;
  if (given.length === files.length) {
    paths = { cert: env.SANDBOX_TLS_CERT_FILE!, key: env.SANDBOX_TLS_KEY_FILE!, ca: env.SANDBOX_TLS_CA_FILE! };
  } else if (given.length > 0) {
    throw new SandboxConfigError(`${files.join(', ')} must be set together (missing: ${files.filter((f) => !given.includes(f)).join(', ')})`);
  } else {
    const dir = join(cwd, '.data', 'sandbox-certs');
    if (existsSync(join(dir, 'server.crt'))) {
      paths = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ca: join(dir, 'ca.crt') };
    }
  }
  if (paths === undefined) return undefined;
  const read = (path: string, name: string): Buffer => {
    try {
      return readFileSync(path);
    } catch {
      throw new SandboxConfigError(`${name}: cannot read ${path}`);
    }
  };
  return {
    port,
    bankPorts: stripUndefined(bankPorts) as Partial<Record<Profile, number>>,
    cert: read(paths.cert, 'SANDBOX_TLS_CERT_FILE'),
    key: read(paths.key, 'SANDBOX_TLS_KEY_FILE'),
    ca: read(paths.ca, 'SANDBOX_TLS_CA_FILE'),
  };
}
