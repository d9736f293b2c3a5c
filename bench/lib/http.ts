import { createServer, type AddressInfo } from 'node:net';
import { isRunning, logTail, type Child } from './children.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 2xx; fails early (with the log) if `child` exits first. Returns ms since the child started. */
export async function waitUntilReady(url: string, child: Child, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(child)) throw new Error(`${child.name} exited before it was ready:\n${logTail(child)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return performance.now() - child.startedAt;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${child.name} was not ready at ${url} within ${timeoutMs} ms:\n${logTail(child)}`);
    await sleep(20);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Hop {
  status: number;
  location?: string;
  setCookies: string[];
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** One request, redirects not followed (a browser's single navigation step, or an API call). */
export async function hop(
  url: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown; form?: Record<string, string> } = {},
): Promise<Hop> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const res = await fetch(url, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  const location = res.headers.get('location') ?? undefined;
  return {
    status: res.status,
    location: location ? new URL(location, url).toString() : undefined,
    setCookies: res.headers.getSetCookie(),
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

/** `hop`, but anything other than `expected` is an error naming the call and the answer. */
export async function expectHop(what: string, expected: number, url: string, init: Parameters<typeof hop>[1] = {}): Promise<Hop> {
  const res = await hop(url, init);
  if (res.status !== expected) throw new Error(`${what}: expected ${expected}, got ${res.status} ${res.text.slice(0, 300)}`);
  return res;
}

/** Runs `fn` over `items` with at most `concurrency` at once, keeping the order of results. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
