import { ExponentialBackoff, handleWhen, retry, type IBackoff, type IBackoffFactory } from 'cockatiel';
import pg from 'pg';

/**
 * The database could not be reached (or refused us) for the whole start-up window. The message is
 * the line to print: where (`host:port/database`, never the user or password), why, for how long.
 */
export class DatabaseUnreachableError extends Error {
  override readonly name = 'DatabaseUnreachableError';

  constructor(
    target: string,
    /** Why, in words, with the driver's or server's code: "connection refused (ECONNREFUSED)". */
    readonly reason: string,
    readonly waitedMs: number,
  ) {
    super(`${cannotConnect(target)}: ${reason}; gave up after ${seconds(waitedMs)} (DATABASE_STARTUP_TIMEOUT_SECONDS)`);
  }
}

export interface WaitOptions {
  /** How long to keep trying (DATABASE_STARTUP_TIMEOUT_SECONDS); 0 = one attempt. */
  timeoutMs: number;
  /** Called with a line to print before each retry, so the operator sees why start-up is waiting. */
  onRetry?: (line: string) => void;
}

const MAX_CONNECT_MS = 5_000;

/**
 * Connects to `url` and runs `SELECT 1`, retrying with exponential backoff (cockatiel) until it
 * works or `timeoutMs` has passed: a database started alongside the service (compose, a host that
 * just rebooted) may need a while before it accepts connections. Refused credentials are retried
 * too, since a database still initialising can refuse a role it is about to create.
 */
export async function waitForDatabase(url: string, options: WaitOptions): Promise<void> {
  const target = describeDatabaseUrl(url);
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const policy = retry(
    handleWhen(() => Date.now() < deadline),
    { maxAttempts: Number.MAX_SAFE_INTEGER, backoff: until(deadline, new ExponentialBackoff({ initialDelay: 250, maxDelay: 5_000 })) },
  );
  policy.onRetry((event) => {
    if ('error' in event) options.onRetry?.(`${cannotConnect(target)}: ${connectionProblem(event.error)}; retrying in ${seconds(event.delay)}`);
  });
  try {
    await policy.execute(() => probe(url, Math.min(MAX_CONNECT_MS, Math.max(1_000, deadline - Date.now()))));
  } catch (error) {
    throw new DatabaseUnreachableError(target, connectionProblem(error), Date.now() - started);
  }
}

function cannotConnect(target: string): string {
  return `cannot connect to the database at ${target} (DATABASE_URL)`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** A backoff whose waits end at `deadline`: the last attempt is made then, not a full delay later. */
function until<C>(deadline: number, backoff: IBackoffFactory<C>): IBackoffFactory<C> {
  const capped = (inner: IBackoff<C>): IBackoff<C> => ({
    duration: Math.max(0, Math.min(inner.duration, deadline - Date.now())),
    next: (context) => capped(inner.next(context)),
  });
  return { next: (context) => capped(backoff.next(context)) };
}

async function probe(url: string, connectionTimeoutMillis: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis });
  client.on('error', () => undefined); // a failure is reported by connect()/query(); never an unhandled event
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `host:port/database` of a connection string: what a log line may name. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
    return `${host}:${parsed.port || '5432'}${parsed.pathname.length > 1 ? parsed.pathname : ''}`;
  } catch {
    return 'DATABASE_URL (unparseable)';
  }
}

/** Network errors by code, as a person would say them. */
const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** PostgreSQL SQLSTATEs a connection attempt can end with. */
const SERVER: Record<string, string> = {
  '28P01': 'password authentication failed',
  '28000': 'authentication refused (unknown role or no pg_hba.conf entry)',
  '3D000': 'the database does not exist',
  '57P03': 'the server is starting up',
  '53300': 'too many connections',
};

/**
 * Why a connection failed, in words plus the code: "connection refused (ECONNREFUSED)". Built
 * only from codes, never from the driver's message text, which could echo parts of the URL.
 */
export function connectionProblem(error: unknown): string {
  const { code, message } = firstCause(error);
  if (code && NETWORK[code]) return `${NETWORK[code]} (${code})`;
  if (code && SERVER[code]) return `${SERVER[code]} (SQLSTATE ${code})`;
  if (/timeout|timed out/i.test(message)) return 'timed out while connecting';
  if (/ssl|tls/i.test(message)) return 'TLS negotiation failed';
  if (/terminated/i.test(message)) return 'the server closed the connection';
  return code ? `connection failed (${code})` : 'connection failed';
}

/** Connecting to a name with several addresses fails with an AggregateError of one error each. */
function firstCause(error: unknown): { code?: string; message: string } {
  const err = error as { code?: unknown; message?: unknown; errors?: unknown[] };
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (!code && Array.isArray(err?.errors) && err.errors.length > 0) return firstCause(err.errors[0]);
  return { code, message: typeof err?.message === 'string' ? err.message : '' };
}
