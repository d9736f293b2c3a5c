import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import request from 'supertest';
import { ERROR_CATALOGUE } from '../../src/common/errors/error-codes.js';
import { appConfig, banksConfig } from '../../src/config/index.js';
import { toDemoConfigView } from '../../src/modules/demo/demo-config.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { PRODUCTION_ENV, signingKey } from '../identity/support.js';
import { enumAt } from './docs-enums.js';

const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));
/** The installed packages the page imports, as it imports them (from js/): the BFF serves them from node_modules. */
const VENDOR_MODULES = { 'vendor/openapi-fetch.mjs': fileURLToPath(new URL('../../node_modules/openapi-fetch/dist/index.mjs', import.meta.url)) };

/** The page's browser modules, relative to public/js/ (`main.js`, `views/banks.js`). */
function pageModules(): string[] {
  const root = join(PUBLIC, 'js');
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .map((f) => relative(root, join(root, f)).split('\\').join('/'))
    .sort();
}

/** A page module loaded in Node (the ones without DOM access at load time), typed loosely on purpose. */
async function loadModule<T>(file: string): Promise<T> {
  return (await import(pathToFileURL(join(PUBLIC, 'js', file)).href)) as T;
}

interface StatusTables {
  CONNECTION_STATUS: Record<string, { text: string }>;
  CONSENT_STATUS: Record<string, { text: string }>;
  PAYMENT_STATUS: Record<string, { text: string; final: boolean }>;
  SCA_STATUS: Record<string, string>;
  BOOKING_STATUS: Record<string, string>;
  DATA_WARNING: Record<string, (bank: string) => string>;
}

/** The demo page's serving rules and its words (the page's behaviour is covered by test/browser in Chromium). */
describe('demo page (sandbox mode only)', () => {
  describe('in sandbox mode', () => {
    let bff: TestBff;
    beforeAll(async () => {
      bff = await startTestBff({ SANDBOX_URL: 'http://127.0.0.1:3999' });
    });
    afterAll(() => bff.close());

    it('serves the page under the strict CSP, with no inline script or handler to allow', async () => {
      const res = await request(bff.url)
        .get('/')
        .expect(200)
        .expect('Content-Type', /text\/html/);
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("script-src-attr 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).toBe('DENY');
      const scripts = [...res.text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)];
      expect(scripts.map((m) => [/\stype="module"/.test(m[0]) && /\ssrc="\/js\/main\.js"/.test(m[0]), m[1].trim()])).toEqual([[true, '']]);
      expect(res.text).not.toMatch(/\son[a-z]+\s*=/i);
      expect(res.text).not.toMatch(/<iframe/i);
    });

    it('serves its stylesheet and every module it imports, as JavaScript', async () => {
      await request(bff.url)
        .get('/app.css')
        .expect(200)
        .expect('Content-Type', /text\/css/);
      const modules = pageModules();
      expect(modules).toEqual(expect.arrayContaining(['main.js', 'api.js', 'sse.js', 'status-text.js', 'views/payments.js']));
      for (const file of modules)
        await request(bff.url)
          .get(`/js/${file}`)
          .expect(200)
          .expect('Content-Type', /javascript/);
      // Every relative import of every module resolves to a module that is served.
      const served = [...modules, ...Object.keys(VENDOR_MODULES)];
      for (const file of modules) {
        const source = readFileSync(join(PUBLIC, 'js', file), 'utf8');
        for (const [, spec] of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
          const target = new URL(spec, `http://page/js/${file}`).pathname.replace(/^\/js\//, '');
          expect({ file, import: spec, served: served.includes(target) }).toEqual({ file, import: spec, served: true });
        }
      }
    });

    it("serves the typed client's runtime from the installed openapi-fetch: its ES module build, which imports nothing", async () => {
      for (const [name, installed] of Object.entries(VENDOR_MODULES)) {
        const res = await request(bff.url)
          .get(`/js/${name}`)
          .expect(200)
          .expect('Content-Type', /javascript/)
          .expect('Cache-Control', 'no-cache');
        expect(res.text).toBe(readFileSync(installed, 'utf8'));
        // The page has no import map (the CSP would have to allow it inline): a bare specifier could not load.
        const imports = [...res.text.matchAll(/\b(?:import|from)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
        expect({ name, imports }).toEqual({ name, imports: [] });
      }
    });

    it('calls the API only through the typed client: api.js imports it and never calls fetch itself', () => {
      const api = readFileSync(join(PUBLIC, 'js', 'api.js'), 'utf8');
      expect(api).toMatch(/^import createClient from '\.\/vendor\/openapi-fetch\.mjs';$/m);
      expect(api).toMatch(/@import \{ paths \} from '\.\.\/\.\.\/clients\/typescript\/schema'/);
      expect(api).not.toMatch(/\bfetch\s*\(/);
    });

    /** Each path is refused with a problem (404, or 400 for a path the router cannot read). */
    const expectRefused = async (paths: string[]) => {
      for (const path of paths) {
        const res = await request(bff.url).get(path);
        expect({ path, status: [400, 404].includes(res.status) }).toEqual({ path, status: true });
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      }
    };

    it('serves no other file of node_modules, nor the type declarations beside the page', async () => {
      await expectRefused([
        '/js/vendor/openapi-fetch.d.mts',
        '/js/vendor/openapi-fetch.cjs',
        '/js/vendor/openapi-fetch.mjs.map',
        '/js/vendor/index.mjs',
        '/js/vendor/index.cjs',
        '/js/vendor/index.mjs.map',
        '/js/vendor/openapi-fetch/dist/index.mjs',
        '/js/vendor/openapi-fetch/package.json',
        '/js/vendor/openapi-typescript-helpers.mjs',
        '/js/vendor/express.mjs',
        '/js/vendor/',
        '/js/openapi-fetch.mjs',
        '/js/node_modules/openapi-fetch/dist/index.mjs',
        '/node_modules/openapi-fetch/dist/index.mjs',
        '/js/vendor/..%2fpackage.json',
        '/js/vendor/%2e%2e/%2e%2e/%2e%2e/package.json',
        '/js/vendor/openapi-fetch.mjs/..%2f..%2fpackage.json',
      ]);
    });

    it('serves nothing else from the folder or above it', async () => {
      await expectRefused([
        '/index.html',
        '/app.js',
        '/public/js/main.js',
        '/js/api-types.d.ts',
        '/js/nope.js',
        '/js/../tsconfig.json',
        '/tsconfig.json',
        '/js/..%2ftsconfig.json',
        '/js/views/..%2f..%2f..%2fpackage.json',
        '/js/%2e%2e/%2e%2e/package.json',
        '/../package.json',
        '/%2e%2e/package.json',
      ]);
    });

    it('uses only the public API and the sandbox login: no other BFF path, no HTML parsing, no localStorage', () => {
      for (const file of pageModules()) {
        const script = readFileSync(join(PUBLIC, 'js', file), 'utf8');
        const paths = new Set([...script.matchAll(/['`](\/(?:api|auth|admin|demo)[^'`$?]*)/g)].map((m) => m[1]));
        for (const path of paths)
          expect({ file, path }).toEqual({
            file,
            path: expect.stringMatching(/^\/api\/v1\/(sandbox\/login|aspsps|connections|consents|payments|events)(\/|$)|^\/demo\/config\.json$/),
          });
        expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
        expect(script).not.toMatch(/localStorage/);
      }
    });

    it('has words for every status the API documents, and none it does not', async () => {
      const docs = (await request(bff.url).get('/docs-json').expect(200)).body;
      const tables = await loadModule<StatusTables>('status-text.js');
      const keys = (table: object) => Object.keys(table).sort();
      expect(keys(tables.CONNECTION_STATUS)).toEqual(enumAt(docs, 'get', '/api/v1/connections/{id}', ['status']).sort());
      expect(keys(tables.CONSENT_STATUS)).toEqual(enumAt(docs, 'get', '/api/v1/consents/{id}', ['status']).sort());
      expect(keys(tables.PAYMENT_STATUS)).toEqual(enumAt(docs, 'get', '/api/v1/payments/{id}', ['status']).sort());
      expect(keys(tables.SCA_STATUS)).toEqual(enumAt(docs, 'get', '/api/v1/payments/{id}', ['scaStatus']).sort());
      expect(keys(tables.BOOKING_STATUS)).toEqual(
        enumAt(docs, 'get', '/api/v1/consents/{consentId}/accounts/{accountId}/transactions', ['transactions', 'booked', '[]', 'bookingStatus']).sort(),
      );
      expect(keys(tables.DATA_WARNING)).toEqual(enumAt(docs, 'get', '/api/v1/consents/{consentId}/accounts', ['warning', 'code']).sort());
      // The states the issue of "speaking plainly" is about, word for word.
      expect(enumAt(docs, 'get', '/api/v1/consents/{id}', ['status'])).toContain('invalid');
      expect(enumAt(docs, 'get', '/api/v1/payments/{id}', ['status'])).toEqual(expect.arrayContaining(['pending', 'unknown']));
      expect(tables.PAYMENT_STATUS.RCVD.text).toBe('Waiting for your approval in the bank app');
      expect(tables.PAYMENT_STATUS.ACSP.text).toBe('Sent');
      expect(tables.PAYMENT_STATUS.CANC.text).toBe('Cancelled');
      // Words, not codes: no text repeats a code-like key (RCVD, revokedByPsu, reauth_required) or is one.
      for (const table of [tables.CONNECTION_STATUS, tables.CONSENT_STATUS, tables.PAYMENT_STATUS]) {
        for (const [key, { text }] of Object.entries(table)) {
          expect({ key, text }).toEqual({ key, text: expect.not.stringMatching(/[A-Z_]/.test(key) ? new RegExp(`${key}|^[A-Z_]+$`) : /^[A-Z_]+$/) });
        }
      }
    });

    it('says a payment that was cancelled is cancelled, and why one was rejected, whatever its SCA status', async () => {
      const { paymentShown } = await loadModule<{
        paymentShown: (p: { status: string; scaStatus?: string; failureCode?: string }) => { text: string; detail?: string };
      }>('status-text.js');
      // Nothing about the failed approval beside it: the cancellation is the whole story.
      expect(paymentShown({ status: 'CANC', scaStatus: 'failed' })).toEqual({ text: 'Cancelled', tone: 'neutral', final: true });
      expect(paymentShown({ status: 'RCVD', scaStatus: 'failed' }).text).toBe('Not approved in the bank app');
      expect(paymentShown({ status: 'RCVD', scaStatus: 'received' }).text).toBe('Waiting for your approval in the bank app');
      expect(paymentShown({ status: 'RCVD', scaStatus: 'finalised' }).text).toBe('Approved; the bank is processing it');
      expect(paymentShown({ status: 'RJCT', failureCode: 'RESOURCE_UNKNOWN' }).text).toBe('Rejected by the bank: the account is not one of yours at this bank');
      expect(paymentShown({ status: 'RJCT' }).text).toBe('Rejected by the bank: no reason given');
    });

    it('has a sentence for every error code the API can answer, which never repeats internal ids', async () => {
      const { PROBLEM_TEXT } = await loadModule<{ PROBLEM_TEXT: Record<string, (p: object, c: { bank: string }) => string> }>('problem-text.js');
      for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
        expect({ code, sentence: typeof PROBLEM_TEXT[code] }).toEqual({ code, sentence: 'function' });
        const problem = {
          type: `https://tpp-bff.dev/problems/${code}`,
          title: entry.title,
          status: entry.status,
          code,
          detail: 'flowe: HTTP 503 from bank',
          requestId: 'req-8c1f',
          aspspId: 'flowe',
        };
        const text = PROBLEM_TEXT[code](problem, { bank: 'Flowe' });
        expect({ code, text }).toEqual({ code, text: expect.not.stringMatching(/req-8c1f|HTTP 503|flowe:|_/) });
      }
    });

    it('tells the page where the sandbox is, and documents that in the OpenAPI', async () => {
      const res = await request(bff.url).get('/demo/config.json').expect(200);
      expect(res.body).toEqual({ sandboxUrl: 'http://127.0.0.1:3999', publicUrl: bff.url });
      const docs = await request(bff.url).get('/docs-json').expect(200);
      expect(Object.keys(docs.body.paths)).toContain('/demo/config.json');
      expect(Object.keys(docs.body.paths).filter((p) => p.startsWith('/js') || p === '/app.css')).toEqual([]);
    });
  });

  it("links the browser to the sandbox as the banks' authorize URLs reach it (Docker Compose)", () => {
    const env = {
      SANDBOX_URL: 'http://sandbox:3100',
      CONNECTPAY_AUTHORIZE_URL: 'http://localhost:3100/connectpay/oauth/authorize',
      FLOWE_AUTHORIZE_URL: 'http://localhost:3100/flowe/idp/oauth2/v2.0/authorize',
    };
    expect(toDemoConfigView(appConfig.parse(env), banksConfig.parse(env)).sandboxUrl).toBe('http://localhost:3100');
    expect(toDemoConfigView(appConfig.parse({}), banksConfig.parse({})).sandboxUrl).toBe('http://localhost:3100');
    const split = { ...env, FLOWE_AUTHORIZE_URL: 'http://127.0.0.1:3100/flowe/idp/oauth2/v2.0/authorize' };
    expect(toDemoConfigView(appConfig.parse(split), banksConfig.parse(split)).sandboxUrl).toBe('http://sandbox:3100');
  });

  it('does not exist in production mode', async () => {
    const key = await signingKey('RS256');
    const bff = await startTestBff({ ...PRODUCTION_ENV, AUTH_PUBLIC_KEY: key.publicPem });
    try {
      for (const path of ['/', '/app.css', '/js/main.js', '/js/vendor/openapi-fetch.mjs', '/demo/config.json']) {
        const res = await request(bff.url).get(path).expect(404);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      }
    } finally {
      await bff.close();
    }
  });
});
