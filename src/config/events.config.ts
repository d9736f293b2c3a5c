import { existsSync, readFileSync } from 'node:fs';
import { IsOptional, IsString } from 'class-validator';
import { APP_MODES, type AppMode } from './app.config.js';
import { ConfigProblems, defineConfig, pickEnv, validateEnv } from './define-config.js';
import { HttpUrl, Integer, ListOf, OneOf } from './rules.js';

/** Every event type the outbox carries (SSE `event:`, webhook `type`). */
export const EVENT_TYPES = ['consent.status', 'payment.status', 'connection.status', 'connection.expiring', 'consent.expiring'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

class EventsEnv {
  @OneOf(APP_MODES) APP_MODE: AppMode = 'sandbox';
  /** How often each replica reads the outbox for its connected SSE clients. */
  @Integer(20, 10_000) EVENTS_POLL_MS = 250;
  @Integer(1, 300) SSE_HEARTBEAT_SECONDS = 15;
  /** Open streams per user on one replica (each holds a socket). */
  @Integer(1, 100) SSE_MAX_STREAMS_PER_USER = 5;
  /** Streams are closed after this so clients reconnect (with Last-Event-ID) and present a fresh user token. */
  @Integer(10, 86_400) SSE_MAX_STREAM_SECONDS = 3600;
  @IsOptional() @HttpUrl() WEBHOOK_URL?: string;
  @IsOptional() @IsString() WEBHOOK_SECRET?: string;
  @IsOptional() @IsString() WEBHOOK_SECRET_FILE?: string;
  @Integer(100, 60_000) WEBHOOK_TIMEOUT_MS = 5000;
  @Integer(20, 60_000) WEBHOOK_POLL_MS = 500;
  @Integer(1, 86_400) WEBHOOK_MAX_BACKOFF_SECONDS = 600;
  /** The event types the webhook receives; the others are marked delivered without a POST. */
  @ListOf(EVENT_TYPES) WEBHOOK_EVENT_TYPES: EventType[] = [...EVENT_TYPES];
}

export interface WebhookConfig {
  url: string;
  /** Non-enumerable: logging or serialising the config never prints it. */
  readonly secret: string;
  timeoutMs: number;
  pollMs: number;
  maxBackoffMs: number;
  /** Types POSTed to the receiver; events of other types are skipped (marked delivered). */
  eventTypes: readonly EventType[];
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

export const eventsConfig = defineConfig('events', (env, problems): EventsConfig => {
  const raw = validateEnv(EventsEnv, pickEnv(env, Object.keys(new EventsEnv()).concat('WEBHOOK_URL', 'WEBHOOK_SECRET', 'WEBHOOK_SECRET_FILE')), problems);
  const secret = raw.WEBHOOK_URL && !problems.isInvalid('WEBHOOK_URL') ? webhookSecret(raw, raw.WEBHOOK_URL, problems) : undefined;
  problems.throwIfAny();
  return {
    pollMs: raw.EVENTS_POLL_MS,
    heartbeatMs: raw.SSE_HEARTBEAT_SECONDS * 1000,
    maxStreamsPerUser: raw.SSE_MAX_STREAMS_PER_USER,
    maxStreamMs: raw.SSE_MAX_STREAM_SECONDS * 1000,
    webhook: raw.WEBHOOK_URL && secret ? webhook(raw, raw.WEBHOOK_URL, secret) : undefined,
  };
});

function webhookSecret(raw: EventsEnv, url: string, problems: ConfigProblems): string | undefined {
  // The signature proves origin, but the body itself is personal data: never in clear text in production.
  if (raw.APP_MODE === 'production' && !url.startsWith('https://')) problems.add('WEBHOOK_URL must be an https URL in production mode', 'WEBHOOK_URL');
  let secret = raw.WEBHOOK_SECRET;
  if (raw.WEBHOOK_SECRET_FILE) {
    if (!existsSync(raw.WEBHOOK_SECRET_FILE)) {
      problems.add('WEBHOOK_SECRET_FILE points to a file that does not exist', 'WEBHOOK_SECRET_FILE');
      return undefined;
    }
    secret = readFileSync(raw.WEBHOOK_SECRET_FILE, 'utf8').trim();
  }
  if (!secret) problems.add('WEBHOOK_SECRET or WEBHOOK_SECRET_FILE must be set when WEBHOOK_URL is', 'WEBHOOK_SECRET');
  else if (secret.length < MIN_SECRET_LENGTH) problems.add(`WEBHOOK_SECRET must be at least ${MIN_SECRET_LENGTH} characters`, 'WEBHOOK_SECRET');
  return secret;
}

function webhook(raw: EventsEnv, url: string, secret: string): WebhookConfig {
  const config: Omit<WebhookConfig, 'secret'> = {
    url,
    timeoutMs: raw.WEBHOOK_TIMEOUT_MS,
    pollMs: raw.WEBHOOK_POLL_MS,
    maxBackoffMs: raw.WEBHOOK_MAX_BACKOFF_SECONDS * 1000,
    eventTypes: [...new Set(raw.WEBHOOK_EVENT_TYPES)],
  };
  return Object.defineProperty(config, 'secret', { value: secret, enumerable: false }) as WebhookConfig;
}
