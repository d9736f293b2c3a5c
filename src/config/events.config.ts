import { existsSync, readFileSync } from 'node:fs';
import { IsOptional, IsString } from 'class-validator';
import { APP_MODES, type AppMode } from './app.config.js';
import { ConfigProblems, defineConfig, pickEnv, validateEnv } from './define-config.js';
import { readConfigFile, readSecretFile } from './files.js';
import { HttpUrl, Integer, ListOf, OneOf } from './rules.js';

/** Every event type the outbox carries (SSE `event:`, webhook `type`). */
export const EVENT_TYPES = ['consent.status', 'payment.status', 'connection.status', 'connection.expiring', 'consent.expiring'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The id of the endpoint WEBHOOK_URL configures. */
export const DEFAULT_ENDPOINT_ID = 'default';

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
  /** More receivers, as JSON (see `parseEndpoints`); the file variant keeps their secrets out of the environment. */
  @IsOptional() @IsString() WEBHOOK_ENDPOINTS?: string;
  @IsOptional() @IsString() WEBHOOK_ENDPOINTS_FILE?: string;
  @Integer(100, 60_000) WEBHOOK_TIMEOUT_MS = 5000;
  @Integer(20, 60_000) WEBHOOK_POLL_MS = 500;
  @Integer(1, 86_400) WEBHOOK_MAX_BACKOFF_SECONDS = 600;
  /** The event types the WEBHOOK_URL endpoint receives. */
  @ListOf(EVENT_TYPES) WEBHOOK_EVENT_TYPES: EventType[] = [...EVENT_TYPES];
}

/** One webhook receiver. */
export interface WebhookEndpoint {
  /** Names the endpoint in delivery rows, metrics, logs and the replay route (`default` for WEBHOOK_URL). */
  id: string;
  url: string;
  /** Non-enumerable: logging or serialising the config never prints it. */
  readonly secret: string;
  /** Types POSTed to it; no delivery is ever recorded for the others. */
  eventTypes: readonly EventType[];
}

export interface WebhookConfig {
  /** At least one; ids are unique. */
  endpoints: readonly WebhookEndpoint[];
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
const ENDPOINT_ID = /^[a-z][a-z0-9_-]{0,39}$/;

export const eventsConfig = defineConfig('events', (env, problems): EventsConfig => {
  const raw = validateEnv(
    EventsEnv,
    pickEnv(env, Object.keys(new EventsEnv()).concat('WEBHOOK_URL', 'WEBHOOK_SECRET', 'WEBHOOK_SECRET_FILE', 'WEBHOOK_ENDPOINTS', 'WEBHOOK_ENDPOINTS_FILE')),
    problems,
  );
  const endpoints: WebhookEndpoint[] = [];
  if (raw.WEBHOOK_URL && !problems.isInvalid('WEBHOOK_URL')) {
    const secret = defaultSecret(raw, problems);
    checkUrl(raw.WEBHOOK_URL, raw.APP_MODE, 'WEBHOOK_URL', 'WEBHOOK_URL', problems);
    if (secret) endpoints.push(endpoint(DEFAULT_ENDPOINT_ID, raw.WEBHOOK_URL, secret, [...new Set(raw.WEBHOOK_EVENT_TYPES)]));
  }
  endpoints.push(...listedEndpoints(raw, problems));
  const seen = new Set<string>();
  for (const { id } of endpoints) {
    if (seen.has(id)) problems.add(`WEBHOOK_ENDPOINTS: the endpoint id "${id}" is used twice (WEBHOOK_URL is "${DEFAULT_ENDPOINT_ID}")`, 'WEBHOOK_ENDPOINTS');
    seen.add(id);
  }
  problems.throwIfAny();
  return {
    pollMs: raw.EVENTS_POLL_MS,
    heartbeatMs: raw.SSE_HEARTBEAT_SECONDS * 1000,
    maxStreamsPerUser: raw.SSE_MAX_STREAMS_PER_USER,
    maxStreamMs: raw.SSE_MAX_STREAM_SECONDS * 1000,
    webhook:
      endpoints.length > 0
        ? { endpoints, timeoutMs: raw.WEBHOOK_TIMEOUT_MS, pollMs: raw.WEBHOOK_POLL_MS, maxBackoffMs: raw.WEBHOOK_MAX_BACKOFF_SECONDS * 1000 }
        : undefined,
  };
});

/** The signature proves origin, but the body itself is personal data: never in clear text in production. */
function checkUrl(url: string, mode: AppMode, where: string, variable: string, problems: ConfigProblems): void {
  if (mode === 'production' && !url.startsWith('https://')) problems.add(`${where} must be an https URL in production mode`, variable);
}

function checkSecret(secret: string | undefined, where: string, problems: ConfigProblems, variable: string): secret is string {
  if (secret !== undefined && secret.length >= MIN_SECRET_LENGTH) return true;
  if (secret) problems.add(`${where} must be at least ${MIN_SECRET_LENGTH} characters`, variable);
  return false;
}

function defaultSecret(raw: EventsEnv, problems: ConfigProblems): string | undefined {
  let secret = raw.WEBHOOK_SECRET;
  if (raw.WEBHOOK_SECRET_FILE) {
    if (!existsSync(raw.WEBHOOK_SECRET_FILE)) {
      problems.add('WEBHOOK_SECRET_FILE points to a file that does not exist', 'WEBHOOK_SECRET_FILE');
      return undefined;
    }
    secret = readFileSync(raw.WEBHOOK_SECRET_FILE, 'utf8').trim();
  }
  if (!secret) problems.add('WEBHOOK_SECRET or WEBHOOK_SECRET_FILE must be set when WEBHOOK_URL is', 'WEBHOOK_SECRET');
  return checkSecret(secret, 'WEBHOOK_SECRET', problems, 'WEBHOOK_SECRET') ? secret : undefined;
}

/**
 * WEBHOOK_ENDPOINTS (or the file WEBHOOK_ENDPOINTS_FILE names): a JSON array of
 * `{ "id", "url", "secret" | "secretFile", "eventTypes"? }`. Each problem names the endpoint by
 * its position and id, never a secret.
 */
function listedEndpoints(raw: EventsEnv, problems: ConfigProblems): WebhookEndpoint[] {
  if (raw.WEBHOOK_ENDPOINTS && raw.WEBHOOK_ENDPOINTS_FILE) {
    problems.add('WEBHOOK_ENDPOINTS and WEBHOOK_ENDPOINTS_FILE must not both be set', 'WEBHOOK_ENDPOINTS');
    return [];
  }
  const variable = raw.WEBHOOK_ENDPOINTS_FILE ? 'WEBHOOK_ENDPOINTS_FILE' : 'WEBHOOK_ENDPOINTS';
  const text = raw.WEBHOOK_ENDPOINTS_FILE ? readConfigFile(raw.WEBHOOK_ENDPOINTS_FILE, variable, problems)?.toString('utf8') : raw.WEBHOOK_ENDPOINTS;
  if (text === undefined) return [];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    problems.add(`${variable} must be a JSON array of endpoints`, variable);
    return [];
  }
  if (!Array.isArray(list)) {
    problems.add(`${variable} must be a JSON array of endpoints`, variable);
    return [];
  }
  return list.flatMap((item: unknown, index) => {
    const parsed = listedEndpoint(item, `${variable}[${index}]`, raw.APP_MODE, problems);
    return parsed ? [parsed] : [];
  });
}

const KEYS = new Set(['id', 'url', 'secret', 'secretFile', 'eventTypes']);

function listedEndpoint(item: unknown, at: string, mode: AppMode, problems: ConfigProblems): WebhookEndpoint | undefined {
  const variable = at.split('[')[0];
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    problems.add(`${at} must be an object with id, url, secret or secretFile, and eventTypes`, variable);
    return undefined;
  }
  const e = item as Record<string, unknown>;
  const where = typeof e.id === 'string' ? `${at} ("${e.id}")` : at;
  const before = problems.list.length;
  for (const key of Object.keys(e)) if (!KEYS.has(key)) problems.add(`${where} has an unknown field "${key}"`, variable);
  if (typeof e.id !== 'string' || !ENDPOINT_ID.test(e.id))
    problems.add(`${at}: id must be 1-40 lower-case letters, digits, - or _, starting with a letter`, variable);
  let url: URL | undefined;
  try {
    url = typeof e.url === 'string' ? new URL(e.url) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol)) problems.add(`${where}: url must be an absolute http(s) URL`, variable);
  else checkUrl(String(e.url), mode, `${where}: url`, variable, problems);
  let secret: string | undefined;
  if (e.secret !== undefined && e.secretFile !== undefined) problems.add(`${where}: secret and secretFile must not both be set`, variable);
  else if (typeof e.secretFile === 'string') secret = readSecretFile(e.secretFile, `${where}: secretFile`, problems);
  else if (typeof e.secret === 'string') secret = e.secret;
  else problems.add(`${where}: secret or secretFile must be set`, variable);
  if (secret !== undefined) checkSecret(secret, `${where}: secret`, problems, variable);
  const types = e.eventTypes ?? [...EVENT_TYPES];
  if (!Array.isArray(types) || types.length === 0 || !types.every((t) => (EVENT_TYPES as readonly unknown[]).includes(t)))
    problems.add(`${where}: eventTypes must list one or more of: ${EVENT_TYPES.join(', ')}`, variable);
  if (problems.list.length > before || secret === undefined) return undefined;
  return endpoint(e.id as string, String(e.url), secret, [...new Set(types as EventType[])]);
}

function endpoint(id: string, url: string, secret: string, eventTypes: EventType[]): WebhookEndpoint {
  const config: Omit<WebhookEndpoint, 'secret'> = { id, url, eventTypes };
  return Object.defineProperty(config, 'secret', { value: secret, enumerable: false }) as WebhookEndpoint;
}
