import { IsOptional, IsString } from 'class-validator';
import proxyaddr from 'proxy-addr';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../common/logging/log-format.js';
import { defineConfig, pickEnv, validateEnv, ConfigProblems, type Env } from './define-config.js';
import { Flag, HttpUrl, HttpUrlList, Integer, OneOf, Pattern } from './rules.js';

export const APP_MODES = ['sandbox', 'production'] as const;
export type AppMode = (typeof APP_MODES)[number];

class AppEnv {
  @OneOf(APP_MODES)
  APP_MODE: AppMode = 'sandbox';

  @OneOf(['development', 'production', 'test'])
  NODE_ENV = 'development';

  @Integer(1, 65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @HttpUrl()
  PUBLIC_URL = 'http://localhost:3000';

  @OneOf(LOG_LEVELS)
  LOG_LEVEL = 'info';

  /** Unset: pretty when stdout is a terminal, JSON otherwise (containers, log shippers, tests). */
  @IsOptional()
  @OneOf(LOG_FORMATS)
  LOG_FORMAT?: LogFormat;

  /** Express "trust proxy": hops whose X-Forwarded-For is believed (false = none, the client socket is the PSU). */
  @IsString()
  TRUST_PROXY = 'false';

  @Pattern(/^\d+(b|kb|mb)$/i, 'must be a size such as 100kb (b, kb or mb)')
  BODY_LIMIT = '100kb';

  @IsOptional()
  @HttpUrlList()
  FRONTEND_RETURN_URLS: string[] = [];

  @IsOptional()
  @HttpUrlList()
  CORS_ORIGINS: string[] = [];

  @HttpUrl()
  SANDBOX_URL = 'http://localhost:3100';

  /**
   * Refuse a connection whose bank accounts another app user's connection already showed (an
   * authorization code redeemed in the wrong login). Default: on in production mode; off in
   * sandbox mode, where every app user logs in as one of the sandbox's few PSUs.
   */
  @IsOptional()
  @Flag()
  BANK_IDENTITY_CHECK?: boolean;

  /** How many days before a bank login or a consent runs out the user is warned (and may log in again early). */
  @Integer(1, 60)
  EXPIRY_WARNING_DAYS = 7;
}

const NAMES = Object.keys(new AppEnv()).concat('LOG_FORMAT', 'BANK_IDENTITY_CHECK');

export interface AppConfig {
  mode: AppMode;
  nodeEnv: string;
  port: number;
  host: string;
  /** The BFF's own public origin: callback URLs and cookie security derive from it. */
  publicUrl: string;
  logLevel: string;
  /** Unset: decided by whether stdout is a terminal (see common/logging). */
  logFormat?: LogFormat;
  trustProxy: boolean | number | string;
  bodyLimit: string;
  /** Exact return URLs (origin + path) the frontend may be sent back to after a bank login. */
  frontendReturnUrls: string[];
  corsOrigins: string[];
  /** Cookies get `Secure` (and the `__Host-` prefix) whenever the BFF is served over https. */
  secureCookies: boolean;
  sandboxUrl: string;
  /** Whether BankIdentityService refuses accounts already shown under another user's connection. */
  bankIdentityCheck: boolean;
  /** Bank logins (`reauthBy`) and consents (`validUntil`) this close to their end are announced and shown as expiring. */
  expiryWarningMs: number;
}

export const appConfig = defineConfig('app', (env, problems): AppConfig => {
  const raw = validateEnv(AppEnv, pickEnv(env, NAMES), problems);
  const trustProxy = parseTrustProxy(raw.TRUST_PROXY, problems);
  if (raw.APP_MODE === 'production' && raw.FRONTEND_RETURN_URLS.length === 0) {
    problems.add('FRONTEND_RETURN_URLS must list at least one URL in production mode', 'FRONTEND_RETURN_URLS');
  }
  if (raw.APP_MODE === 'production') httpsOrLoopback(raw, problems);
  problems.throwIfAny();

  const publicUrl = trimSlashes(raw.PUBLIC_URL);
  const returnUrls = [...raw.FRONTEND_RETURN_URLS];
  // The demo page is a legitimate frontend in sandbox mode.
  if (raw.APP_MODE === 'sandbox') returnUrls.push(`${publicUrl}/`);
  return {
    mode: raw.APP_MODE,
    nodeEnv: raw.NODE_ENV,
    port: raw.PORT,
    host: raw.HOST,
    publicUrl,
    logLevel: raw.LOG_LEVEL,
    logFormat: raw.LOG_FORMAT,
    trustProxy,
    bodyLimit: raw.BODY_LIMIT,
    frontendReturnUrls: [...new Set(returnUrls.map(normaliseReturnUrl))],
    corsOrigins: raw.CORS_ORIGINS,
    secureCookies: publicUrl.startsWith('https://'),
    sandboxUrl: trimSlashes(raw.SANDBOX_URL),
    bankIdentityCheck: raw.BANK_IDENTITY_CHECK ?? raw.APP_MODE === 'production',
    expiryWarningMs: raw.EXPIRY_WARNING_DAYS * 86_400_000,
  };
});

/** A browser talking to its own machine: no network to listen on (RFC 8252 7.3 allows http there). */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Production mode: the BFF's public origin (callbacks carry codes, cookies are set for it) and the
 * frontends it returns to are https. Loopback is the exception, for a production-mode trial on one
 * machine (the compose `prod` profile).
 */
function httpsOrLoopback(raw: AppEnv, problems: ConfigProblems): void {
  const plainHttp = (url: string) => URL.canParse(url) && new URL(url).protocol !== 'https:' && !LOOPBACK_HOSTS.has(new URL(url).hostname);
  if (!problems.isInvalid('PUBLIC_URL') && plainHttp(raw.PUBLIC_URL)) {
    problems.add('PUBLIC_URL must be an https URL in production mode (http only for localhost)', 'PUBLIC_URL');
  }
  if (!problems.isInvalid('FRONTEND_RETURN_URLS') && raw.FRONTEND_RETURN_URLS.some(plainHttp)) {
    problems.add('FRONTEND_RETURN_URLS must list only https URLs in production mode (http only for localhost)', 'FRONTEND_RETURN_URLS');
  }
}

export interface AppBasics {
  mode: AppMode;
  publicUrl: string;
  sandboxUrl: string;
}

/**
 * What other namespaces need from this one, read leniently: an invalid value falls back to its
 * default (this namespace reports it), so the other namespaces are still checked in the same run.
 */
export function appBasics(env: Env): AppBasics {
  const problems = new ConfigProblems();
  const raw = validateEnv(AppEnv, pickEnv(env, NAMES), problems);
  const defaults = new AppEnv();
  const valid = <K extends 'APP_MODE' | 'PUBLIC_URL' | 'SANDBOX_URL'>(name: K): AppEnv[K] => (problems.isInvalid(name) ? defaults[name] : raw[name]);
  return { mode: valid('APP_MODE'), publicUrl: trimSlashes(valid('PUBLIC_URL')), sandboxUrl: trimSlashes(valid('SANDBOX_URL')) };
}

const TRUST_PROXY_EXPECTED =
  'TRUST_PROXY must be false, true, a hop count, or a comma-separated list of IP addresses, subnets (10.0.0.0/8) or loopback, linklocal, uniquelocal';

function parseTrustProxy(value: string, problems: ConfigProblems): boolean | number | string {
  if (/^(false|0|none)$/i.test(value)) return false;
  if (/^true$/i.test(value)) return true;
  if (/^\d+$/.test(value)) return Number(value);
  // Express compiles the list with proxy-addr on the first request; compiling it here turns its
  // TypeError into a start-up problem.
  try {
    proxyaddr.compile(value.split(',').map((entry) => entry.trim()));
  } catch {
    problems.add(TRUST_PROXY_EXPECTED, 'TRUST_PROXY');
  }
  return value;
}

function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

export function normaliseReturnUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
