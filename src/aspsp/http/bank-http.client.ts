import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry, wrap, BrokenCircuitError, type IPolicy } from 'cockatiel';
import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import type { BankConfig } from '../../config/banks.config.js';
import { redactUrl } from '../../common/logging/redaction.js';
import { BankError } from '../bank-error.js';

export interface BankRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** JSON body (sent as application/json). */
  json?: unknown;
  /** Form body (sent as application/x-www-form-urlencoded), for token endpoints. */
  form?: Record<string, string>;
  /** Retry transient failures (only for requests that are safe to repeat). */
  retry?: boolean;
  /** Add a fresh X-Request-ID (Berlin Group APIs require one on every call). */
  requestId?: boolean;
}

export interface BankResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the bank sent JSON, otherwise undefined. */
  body: unknown;
  requestId?: string;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;

/**
 * The only way the BFF talks to a bank: one undici Agent per bank (presenting the TPP's QWAC for
 * mutual TLS and trusting the bank's CA when configured), a per-call timeout, a fresh X-Request-ID
 * per call that is logged with the outcome, bounded retries with jittered exponential backoff for
 * idempotent calls, and a circuit breaker so a failing bank fails fast without touching others.
 */
export class BankHttpClient {
  private readonly logger: Logger;
  private readonly dispatcher: Dispatcher;
  private readonly breaker;
  private readonly retrying: IPolicy;

  constructor(
    private readonly bank: BankConfig,
    options: { breakerThreshold?: number; halfOpenAfterMs?: number; maxRetries?: number } = {},
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
    const transient = handleWhen((e) => e instanceof BankError && (e.kind === 'transient' || e.kind === 'timeout'));
    this.breaker = circuitBreaker(transient, {
      halfOpenAfter: options.halfOpenAfterMs ?? 10_000,
      breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 5),
    });
    this.retrying = retry(handleWhen((e) => e instanceof BankError && e.kind === 'transient'), {
      maxAttempts: options.maxRetries ?? 2,
      backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 }),
    });
  }

  /** Open, half-open or closed: exported as a metric by the caller. */
  get circuitState(): string {
    return String(this.breaker.state);
  }

  async send(req: BankRequest): Promise<BankResponse> {
    const policy = req.retry ? wrap(this.retrying, this.breaker) : this.breaker;
    try {
      return await policy.execute(() => this.once(req));
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw new BankError(this.bank.id, 'unavailable', 'the bank is failing; calls are paused', { retryAfterSeconds: 10 });
      }
      throw error;
    }
  }

  private async once(req: BankRequest): Promise<BankResponse> {
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
    const logged = { bank: this.bank.id, method: req.method, url: redactUrl(req.url), xRequestId: requestId };
    try {
      const res = await request(req.url, { method: req.method, headers, body, dispatcher: this.dispatcher, maxRedirections: 0 } as Parameters<typeof request>[1]);
      const text = await readLimited(res.body);
      const ms = Math.round(performance.now() - started);
      this.logger.log({ ...logged, status: res.statusCode, ms }, 'bank call');
      if (res.statusCode >= 500) {
        throw new BankError(this.bank.id, 'transient', `the bank answered ${res.statusCode}`, { status: res.statusCode });
      }
      return { status: res.statusCode, headers: res.headers, body: parseJson(text), requestId };
    } catch (error) {
      if (error instanceof BankError) throw error;
      const ms = Math.round(performance.now() - started);
      const kind = isTimeout(error) ? 'timeout' : 'transient';
      this.logger.warn({ ...logged, ms, failure: kind, errorCode: (error as { code?: string }).code }, 'bank call failed');
      throw new BankError(this.bank.id, kind, kind === 'timeout' ? 'the bank did not answer in time' : 'the connection to the bank failed', {}, { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError ||
    (error as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT'
  );
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
