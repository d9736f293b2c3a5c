import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { defineConfig, pickEnv, validateEnv, ConfigError } from './define-config.js';
import { ToInt, ToList } from './transforms.js';

export const APP_MODES = ['sandbox', 'production'] as const;
export type AppMode = (typeof APP_MODES)[number];

class AppEnv {
  @IsIn(APP_MODES)
  APP_MODE: AppMode = 'sandbox';

  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';

  @ToInt()
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  PUBLIC_URL = 'http://localhost:3000';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Express "trust proxy": hops whose X-Forwarded-For is believed (false = none, the client socket is the PSU). */
  @IsString()
  TRUST_PROXY = 'false';

  @Matches(/^\d+(b|kb|mb)$/i, { message: 'BODY_LIMIT must look like 100kb' })
  BODY_LIMIT = '100kb';

  @IsOptional()
  @ToList()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { each: true, message: 'FRONTEND_RETURN_URLS must be a comma-separated list of absolute http(s) URLs' })
  FRONTEND_RETURN_URLS: string[] = [];

  @IsOptional()
  @ToList()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { each: true, message: 'CORS_ORIGINS must be a comma-separated list of absolute http(s) URLs' })
  CORS_ORIGINS: string[] = [];

  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  SANDBOX_URL = 'http://localhost:3100';
}

export interface AppConfig {
  mode: AppMode;
  nodeEnv: string;
  port: number;
  host: string;
  /** The BFF's own public origin: callback URLs and cookie security derive from it. */
  publicUrl: string;
  logLevel: string;
  trustProxy: boolean | number | string;
  bodyLimit: string;
  /** Exact return URLs (origin + path) the frontend may be sent back to after a bank login. */
  frontendReturnUrls: string[];
  corsOrigins: string[];
  /** Cookies get `Secure` (and the `__Host-` prefix) whenever the BFF is served over https. */
  secureCookies: boolean;
  sandboxUrl: string;
}

export const appConfig = defineConfig('app', (env): AppConfig => {
  const raw = validateEnv(AppEnv, pickEnv(env, Object.keys(new AppEnv())));
  const publicUrl = raw.PUBLIC_URL.replace(/\/+$/, '');
  const returnUrls = [...raw.FRONTEND_RETURN_URLS];
  // The demo page is a legitimate frontend in sandbox mode (docs/design.md, "The frontend contract").
  if (raw.APP_MODE === 'sandbox') returnUrls.push(`${publicUrl}/`);
  if (raw.APP_MODE === 'production' && returnUrls.length === 0) {
    throw new ConfigError('FRONTEND_RETURN_URLS must list at least one URL in production mode');
  }
  return {
    mode: raw.APP_MODE,
    nodeEnv: raw.NODE_ENV,
    port: raw.PORT,
    host: raw.HOST,
    publicUrl,
    logLevel: raw.LOG_LEVEL,
    trustProxy: parseTrustProxy(raw.TRUST_PROXY),
    bodyLimit: raw.BODY_LIMIT,
    frontendReturnUrls: [...new Set(returnUrls.map(normaliseReturnUrl))],
    corsOrigins: raw.CORS_ORIGINS,
    secureCookies: publicUrl.startsWith('https://'),
    sandboxUrl: raw.SANDBOX_URL.replace(/\/+$/, ''),
  };
});

function parseTrustProxy(value: string): boolean | number | string {
  if (/^(false|0|none)$/i.test(value)) return false;
  if (/^true$/i.test(value)) return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value; // e.g. "loopback, 10.0.0.0/8": Express parses the list
}

export function normaliseReturnUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
