import { existsSync, readFileSync } from 'node:fs';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';
import { APP_MODES, type AppMode } from './app.config.js';
import { ConfigError, defineConfig, pickEnv, validateEnv } from './define-config.js';
import { ToInt } from './transforms.js';

class EventsEnv {
  @IsIn(APP_MODES) APP_MODE: AppMode = 'sandbox';
  /** How often each replica reads the outbox for its connected SSE clients. */
  @ToInt() @IsInt() @Min(20) @Max(10_000) EVENTS_POLL_MS = 250;
  @ToInt() @IsInt() @Min(1) @Max(300) SSE_HEARTBEAT_SECONDS = 15;
  /** Open streams per user on one replica (each holds a socket). */
  @ToInt() @IsInt() @Min(1) @Max(100) SSE_MAX_STREAMS_PER_USER = 5;
  /** Streams are closed after this so clients reconnect (with Last-Event-ID) and present a fresh user token. */
  @ToInt() @IsInt() @Min(10) @Max(86_400) SSE_MAX_STREAM_SECONDS = 3600;
  @IsOptional() @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }) WEBHOOK_URL?: string;
  @IsOptional() @IsString() WEBHOOK_SECRET?: string;
  @IsOptional() @IsString() WEBHOOK_SECRET_FILE?: string;
  @ToInt() @IsInt() @Min(100) @Max(60_000) WEBHOOK_TIMEOUT_MS = 5000;
  @ToInt() @IsInt() @Min(20) @Max(60_000) WEBHOOK_POLL_MS = 500;
  @ToInt() @IsInt() @Min(1) @Max(86_400) WEBHOOK_MAX_BACKOFF_SECONDS = 600;
}

export interface WebhookConfig {
  url: string;
  /** Non-enumerable: logging or serialising the config never prints it. */
  readonly secret: string;
  timeoutMs: number;
  pollMs: number;
  maxBackoffMs: number;
}

export interface EventsConfig {
  pollMs: number;
  heartbeatMs: number;
  maxStreamsPerUser: number;
  maxStreamMs: number;
  /** Unset: events are only streamed (SSE), not POSTed. */
  webhook?: WebhookConfig;
}

const MIN_SECRET_LENGTH = 32;

export const eventsConfig = defineConfig('events', (env): EventsConfig => {
  const raw = validateEnv(EventsEnv, pickEnv(env, Object.keys(new EventsEnv()).concat('WEBHOOK_URL', 'WEBHOOK_SECRET', 'WEBHOOK_SECRET_FILE')));
  return {
    pollMs: raw.EVENTS_POLL_MS,
    heartbeatMs: raw.SSE_HEARTBEAT_SECONDS * 1000,
    maxStreamsPerUser: raw.SSE_MAX_STREAMS_PER_USER,
    maxStreamMs: raw.SSE_MAX_STREAM_SECONDS * 1000,
    webhook: raw.WEBHOOK_URL ? webhook(raw, raw.WEBHOOK_URL) : undefined,
  };
});

function webhook(raw: EventsEnv, url: string): WebhookConfig {
  // The signature proves origin, but the body itself is personal data: never in clear text in production.
  if (raw.APP_MODE === 'production' && !url.startsWith('https://')) throw new ConfigError('WEBHOOK_URL must be an https URL in production mode');
  let secret = raw.WEBHOOK_SECRET;
  if (raw.WEBHOOK_SECRET_FILE) {
    if (!existsSync(raw.WEBHOOK_SECRET_FILE)) throw new ConfigError('WEBHOOK_SECRET_FILE points to a file that does not exist');
    secret = readFileSync(raw.WEBHOOK_SECRET_FILE, 'utf8').trim();
  }
  if (!secret) throw new ConfigError('WEBHOOK_SECRET or WEBHOOK_SECRET_FILE must be set when WEBHOOK_URL is');
  if (secret.length < MIN_SECRET_LENGTH) throw new ConfigError(`WEBHOOK_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  const config = { url, timeoutMs: raw.WEBHOOK_TIMEOUT_MS, pollMs: raw.WEBHOOK_POLL_MS, maxBackoffMs: raw.WEBHOOK_MAX_BACKOFF_SECONDS * 1000 } as WebhookConfig;
  Object.defineProperty(config, 'secret', { value: secret, enumerable: false });
  return config;
}
