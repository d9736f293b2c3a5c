import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  TaskCancelledError,
  timeout,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import type { BankConfig } from '../../config/banks.config.js';
import { redactUrl } from '../../common/logging/redaction.js';
import { BankError, type BankErrorKind, type BankFailureCause } from '../bank-error.js';
import { NO_OBSERVER, type BankCallObserver, type BankEndpoint, type CircuitStateName } from './bank-call-observer.js';
import { remainingMs } from './deadline.js';
import { fixHint } from './failure-hints.js';

export interface BankRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** What is asked, for metrics and logs: `token`, `accounts`, `payment-status`, … */
  operation: string;
  /** The login server or the API: each has its own circuit (default `api`). */
  endpoint?: BankEndpoint;
  headers?: Record<string, string>;
  /** JSON body (sent as application/json). */
  json?: unknown;
  /** Form body (sent as application/x-www-form-urlencoded), for token endpoints. */
  form?: Record<string, string>;
  /** Retry transient failures (only for requests that are safe to repeat). */
  retry?: boolean;
  /** Add a fresh X-Request-ID (Berlin Group APIs require one on every call). */
  requestId?: boolean;
  /**
   * Turns a 4xx answer into the error it means, inside the circuit: a bank that refuses our
   * credentials (subscription key, client secret, certificate) then opens it like a failing one.
   */
  classify?: (res: BankResponse) => BankError | undefined;
}

export interface BankResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the bank sent JSON, otherwise undefined. */
  body: unknown;
  requestId?: string;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;
/** The same refusal of our credentials is logged as an error at most this often per bank and cause. */
const HINT_LOG_EVERY_MS = 30_000;

/** Failures already counted attempt by attempt. */
const counted = new WeakSet<BankError>();

/** Kinds that say the bank (or our set-up with it) is failing, not the request: they open the circuit. */
const CIRCUIT_KINDS: ReadonlySet<BankErrorKind> = new Set(['transient', 'timeout', 'unreachable', 'misconfigured']);

/**
 * The only way the BFF talks to a bank: one undici Agent per bank (presenting the TPP's QWAC for
 * mutual TLS and trusting the bank's CA when configured); a total deadline per call that covers
 * waiting for a socket, the request and any retries, and never outlives the deadline of the work it
 * belongs to (see deadline.ts); a fresh X-Request-ID per call, logged with the outcome; bounded
 * retries with jittered exponential backoff for idempotent calls; and one circuit breaker per
 * endpoint (login server, API), so a failing bank — or one that refuses our credentials — fails
 * fast without touching the others. Failures are classified by whether the request can have
 * reached the bank (`unreachable` never did), and reported to the observer (metrics).
 */
export class BankHttpClient {
  private readonly logger: Logger;
  private readonly dispatcher: Dispatcher;
  private readonly breakers: Record<BankEndpoint, CircuitBreakerPolicy>;
  private readonly retrying: IPolicy;
  private readonly hintLoggedAt = new Map<string, number>();

  constructor(
    private readonly bank: BankConfig,
    private readonly observer: BankCallObserver = NO_OBSERVER,
    options: { maxRetries?: number } = {},
  ) {
    this.logger = new Logger(`Bank:${bank.id}`);
    this.dispatcher = new Agent({
      connect: bank.tls
        ? { cert: bank.tls.cert, key: bank.tls.key, ca: bank.tls.ca, rejectUnauthorized: true, timeout: bank.timeoutMs }
        : { timeout: bank.timeoutMs },
      headersTimeout: bank.timeoutMs,
      bodyTimeout: bank.timeoutMs,
      keepAliveTimeout: 10_000,
      connections: 32,
    });
    this.breakers = { token: this.newBreaker('token'), api: this.newBreaker('api') };
    this.retrying = retry(
      handleWhen((e) => e instanceof BankError && (e.kind === 'transient' || e.kind === 'unreachable')),
      {
        maxAttempts: options.maxRetries ?? 2,
        backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 }),
      },
    );
  }

  /** `closed`, `half_open` or `open`, per endpoint. */
  circuitState(endpoint: BankEndpoint = 'api'): CircuitStateName {
    return stateName(this.breakers[endpoint].state);
  }

  async send(req: BankRequest): Promise<BankResponse> {
    const endpoint = req.endpoint ?? 'api';
    try {
      const budget = remainingMs(this.bank.timeoutMs);
      if (budget <= 0) throw new BankError(this.bank.id, 'timeout', 'no time was left to call the bank', { cause: 'deadline_exceeded' });
      const inner = req.retry ? wrap(this.retrying, this.breakers[endpoint]) : this.breakers[endpoint];
      // Aggressive: the call ends at the deadline even if the request ignores its abort signal.
      const policy = wrap(timeout(budget, TimeoutStrategy.Aggressive), inner);
      return await policy.execute(({ signal }) => this.once(req, signal));
    } catch (raw) {
      const error = this.toBankError(raw, endpoint);
      // Attempts that failed are counted as they fail (below); this is what ends the call otherwise.
      if (!counted.has(error)) this.observer.callFailed(this.bank.id, req.operation, error.failureCause);
      if (error.kind === 'rate_limited') this.observer.rateLimited(this.bank.id, req.operation);
      if (error.kind === 'misconfigured' || error.kind === 'unreachable') this.logHint(error, req.operation);
      throw error;
    }
  }

  private async once(req: BankRequest, signal: AbortSignal): Promise<BankResponse> {
    const requestId = req.requestId ? randomUUID() : undefined;
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (requestId) headers['X-Request-ID'] = requestId;
    let body: string | undefined;
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (req.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(req.form).toString();
    }
    const started = performance.now();
    const logged = { bank: this.bank.id, operation: req.operation, method: req.method, url: redactUrl(req.url), xRequestId: requestId };
    let res: Dispatcher.ResponseData<unknown>;
    let text: string;
    try {
      res = await request(req.url, { method: req.method, headers, body, signal, dispatcher: this.dispatcher, maxRedirections: 0 } as Parameters<
        typeof request
      >[1]);
      text = await readLimited(res.body);
    } catch (error) {
      const ms = Math.round(performance.now() - started);
      const failure = networkFailure(this.bank.id, error);
      this.observer.callFinished({ aspspId: this.bank.id, operation: req.operation, statusClass: 'none', durationMs: ms });
      this.countFailure(failure, req.operation);
      // A warning, without a stack: the bank's trouble, not a bug of ours.
      this.logger.warn({ ...logged, ms, failure: failure.kind, cause: failure.failureCause, errorCode: errorCode(error) }, 'bank call failed');
      throw failure;
    }
    const ms = Math.round(performance.now() - started);
    this.observer.callFinished({ aspspId: this.bank.id, operation: req.operation, statusClass: `${Math.floor(res.statusCode / 100)}xx`, durationMs: ms });
    if (res.statusCode >= 500) {
      this.logger.warn({ ...logged, status: res.statusCode, ms }, 'bank call failed');
      throw this.countFailure(
        new BankError(this.bank.id, 'transient', `the bank answered ${res.statusCode}`, { status: res.statusCode, cause: 'server_error' }),
        req.operation,
      );
    }
    this.logger.log({ ...logged, status: res.statusCode, ms }, 'bank call');
    const response: BankResponse = { status: res.statusCode, headers: res.headers, body: parseJson(text), requestId };
    const refusal = res.statusCode >= 400 ? req.classify?.(response) : undefined;
    if (refusal) throw this.countFailure(refusal, req.operation);
    return response;
  }

  /** Counts one failed attempt (each retry is a bank call of its own). */
  private countFailure(error: BankError, operation: string): BankError {
    this.observer.callFailed(this.bank.id, operation, error.failureCause);
    counted.add(error);
    return error;
  }

  private toBankError(error: unknown, endpoint: BankEndpoint): BankError {
    if (error instanceof BankError) return error;
    if (error instanceof BrokenCircuitError) {
      const seconds = Math.ceil(this.bank.breaker.halfOpenAfterMs / 1000);
      const what = endpoint === 'token' ? "the bank's login server is failing" : 'the bank is failing';
      return new BankError(this.bank.id, 'unavailable', `${what}; calls are paused for ${seconds} s`, { retryAfterSeconds: seconds, cause: 'circuit_open' });
    }
    // (cockatiel's own isTaskCancelledError tests for another error's marker: instanceof it is.)
    if (error instanceof TaskCancelledError)
      return new BankError(this.bank.id, 'timeout', 'the bank did not answer in time', { cause: 'deadline_exceeded' }, { cause: error });
    return new BankError(this.bank.id, 'unexpected', 'the bank call failed unexpectedly', { cause: 'unexpected' }, { cause: error });
  }

  private newBreaker(endpoint: BankEndpoint): CircuitBreakerPolicy {
    // The login server also opens its circuit on 429: it throttles every user of this TPP at once.
    const counts = (e: unknown) => e instanceof BankError && (CIRCUIT_KINDS.has(e.kind) || (endpoint === 'token' && e.kind === 'rate_limited'));
    const breaker = circuitBreaker(handleWhen(counts), {
      halfOpenAfter: this.bank.breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(this.bank.breaker.threshold),
    });
    this.observer.circuitChanged(this.bank.id, endpoint, 'closed');
    breaker.onStateChange((state) => {
      const name = stateName(state);
      this.observer.circuitChanged(this.bank.id, endpoint, name);
      const fields = { bank: this.bank.id, endpoint, state: name };
      if (name === 'open') this.logger.warn(fields, 'circuit opened: calls to the bank are paused');
      else this.logger.log(fields, 'circuit state changed');
    });
    return breaker;
  }

  /** One error line per bank and cause now and then, saying what to check (never a secret). */
  private logHint(error: BankError, operation: string): void {
    const cause = error.failureCause;
    const hint = fixHint(this.bank, cause);
    if (!hint) return;
    const key = cause;
    const now = Date.now();
    if (now - (this.hintLoggedAt.get(key) ?? 0) < HINT_LOG_EVERY_MS) return;
    this.hintLoggedAt.set(key, now);
    this.logger.error({ bank: this.bank.id, operation, cause, status: error.details.status, oauthError: error.details.oauthError }, hint);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

function stateName(state: CircuitState): CircuitStateName {
  if (state === CircuitState.Open || state === CircuitState.Isolated) return 'open';
  if (state === CircuitState.HalfOpen) return 'half_open';
  return 'closed';
}

function errorCode(error: unknown): string | undefined {
  const own = (error as { code?: unknown } | undefined)?.code;
  if (typeof own === 'string') return own;
  const inner = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof inner === 'string' ? inner : undefined;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);
const REFUSED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
/** Certificate checks of ours (the bank's certificate) and alerts from the bank (ours refused): the handshake never completed. */
const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
]);

/**
 * A failure without an answer, by whether the request can have reached the bank: a refused or
 * unresolvable connection, a connect timeout and a failed TLS handshake never sent it
 * (`unreachable`); a reset or a missing answer after it was sent may have been processed.
 */
function networkFailure(aspspId: string, error: unknown): BankError {
  const code = errorCode(error);
  const failure = (kind: BankErrorKind, cause: BankFailureCause, message: string) => new BankError(aspspId, kind, message, { cause }, { cause: error });
  if (error instanceof undiciErrors.ConnectTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT')
    return failure('unreachable', 'connect_timeout', 'the bank did not accept the connection in time');
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError)
    return failure('timeout', 'timeout', 'the bank did not answer in time');
  if ((error as { name?: string } | undefined)?.name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') {
    return failure('timeout', 'deadline_exceeded', 'the bank did not answer in time');
  }
  if (code && REFUSED_CODES.has(code)) return failure('unreachable', 'connection_refused', 'the bank refused the connection');
  if (code && DNS_CODES.has(code)) return failure('unreachable', 'dns_failure', "the bank's host name could not be resolved");
  if (code && (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || (code === 'EPROTO' && /alert|handshake|ssl/i.test(String((error as Error).message))))) {
    return failure('unreachable', 'tls_refused', 'the TLS handshake with the bank failed');
  }
  if ((error as Error | undefined)?.message === 'bank response too large')
    return failure('unexpected', 'unexpected', 'the bank sent an answer that is too large');
  return failure('transient', 'connection_failed', 'the connection to the bank failed');
}

async function readLimited(body: Dispatcher.ResponseData['body']): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      throw new Error('bank response too large');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
