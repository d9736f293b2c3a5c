import fc from 'fast-check';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { sandboxLogin } from '../support/bank-login.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { bankEnv, startSandbox } from '../support/bank-world.js';

interface Route {
  method: string;
  path: string;
}

const SECRETS = ['connectpay-sandbox-secret', 'flowe-sandbox-secret', 'flowe-sandbox-subscription-key'];

/** Hostile strings: traversal, URLs, injections, unicode, control characters, huge numbers. */
const nasty = fc.oneof(
  fc.constantFrom(
    '../',
    '%2e%2e%2f',
    '..%2F..%2Fetc%2Fpasswd',
    'http://evil.example/',
    '//evil',
    "' OR 1=1 --",
    '${7*7}',
    '<script>',
    '\u0000',
    '１２３',
    'NaN',
    '-1',
    '1e309',
    '__proto__',
    'null',
    '',
  ),
  fc.string({ maxLength: 40 }),
  fc.uuid(),
);
const jsonValue = fc.jsonValue({ maxDepth: 4 });

/**
 * Randomised path ids, query strings, headers and bodies for every route the
 * OpenAPI document lists (so new routes are fuzzed as they appear) → never a 5xx, every error is
 * problem+json, and no configured secret ever appears in an answer.
 */
describe('fuzzing every route', () => {
  let sandbox: SandboxApp;
  let bff: TestBff;
  let token: string;
  let routes: Route[];

  beforeAll(async () => {
    sandbox = await startSandbox();
    bff = await startTestBff({ ...bankEnv(sandbox), SCHEDULER_ENABLED: 'false' });
    token = await sandboxLogin(bff.url, 'fuzzer');
    const doc = (await (await fetch(`${bff.url}/docs-json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })));
    // The browser-facing login routes are left out of the API document; fuzz them too.
    routes.push(
      { method: 'GET', path: '/auth/{aspspId}/login' },
      { method: 'GET', path: '/auth/{aspspId}/callback' },
      { method: 'GET', path: '/auth/flowe/callback' },
    );
  });
  afterAll(async () => {
    await bff.close();
    await sandbox.close();
  });

  it('never answers 5xx and always answers errors as problem+json', async () => {
    expect(routes.length).toBeGreaterThan(5);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(nasty, { minLength: 3, maxLength: 3 }),
        fc.dictionary(fc.constantFrom('refresh', 'dateFrom', 'dateTo', 'bookingStatus', 'limit', 'cursor', 'ticket', 'state', 'code', 'error'), nasty, {
          maxKeys: 4,
        }),
        fc.option(jsonValue, { nil: undefined }),
        fc.record({
          auth: fc.boolean(),
          idempotencyKey: fc.option(nasty, { nil: undefined }),
          contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-16'),
        }),
        async (pick, ids, query, body, headers) => {
          const route = routes[pick % routes.length];
          let i = 0;
          const path = route.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(ids[i++ % ids.length]));
          const qs = new URLSearchParams(query).toString();
          const init: RequestInit = { method: route.method, redirect: 'manual', headers: {} };
          const h = init.headers as Record<string, string>;
          if (headers.auth) h.authorization = `Bearer ${token}`;
          if (headers.idempotencyKey !== undefined) h['idempotency-key'] = headers.idempotencyKey.replace(/[^\x20-\x7e]/g, '');
          if (body !== undefined && route.method !== 'GET' && route.method !== 'DELETE') {
            h['content-type'] = headers.contentType;
            init.body = JSON.stringify(body);
          }
          // Every answer must come within 5 s; an event stream is checked by its headers, then left.
          const res = await fetch(`${bff.url}${path}${qs ? `?${qs}` : ''}`, { ...init, signal: AbortSignal.timeout(5_000) });
          const streaming = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
          if (streaming) await res.body?.cancel();
          const text = streaming ? '' : await res.text();
          expect({ route: `${route.method} ${route.path}`, status: res.status < 500 }).toEqual({ route: `${route.method} ${route.path}`, status: true });
          const problemJson = (res.headers.get('content-type') ?? '').includes('application/problem+json');
          expect({ route: route.path, status: res.status, errorIsProblem: res.status < 400 || problemJson }).toEqual({
            route: route.path,
            status: res.status,
            errorIsProblem: true,
          });
          expect(/^(\/\/|https?:\/\/(?!127\.0\.0\.1))/.test(res.headers.get('location') ?? '')).toBe(false);
          for (const secret of SECRETS) expect(text.includes(secret)).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  }, 120_000);
});
