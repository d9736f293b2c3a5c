import { readFileSync } from 'node:fs';
import request from 'supertest';
import { appConfig, banksConfig } from '../../src/config/index.js';
import { toDemoConfigView } from '../../src/modules/demo/demo-config.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { PRODUCTION_ENV, signingKey } from '../identity/support.js';

/** The demo page's serving rules (the page's behaviour is covered by test/browser in Chromium). */
describe('demo page (sandbox mode only)', () => {
  describe('in sandbox mode', () => {
    let bff: TestBff;
    beforeAll(async () => {
      bff = await startTestBff({ SANDBOX_URL: 'http://127.0.0.1:3999' });
    });
    afterAll(() => bff.close());

    it('serves the page under the strict CSP, with no inline script or handler to allow', async () => {
      const res = await request(bff.url).get('/').expect(200).expect('Content-Type', /text\/html/);
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("script-src-attr 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).toBe('DENY');
      const scripts = [...res.text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)];
      expect(scripts.map((m) => [/\ssrc="\/app\.js"/.test(m[0]), m[1].trim()])).toEqual([[true, '']]);
      expect(res.text).not.toMatch(/\son[a-z]+\s*=/i);
      expect(res.text).not.toMatch(/<iframe/i);
    });

    it('serves exactly its three files, nothing else from the folder or above it', async () => {
      await request(bff.url).get('/app.js').expect(200).expect('Content-Type', /javascript/);
      await request(bff.url).get('/app.css').expect(200).expect('Content-Type', /text\/css/);
      for (const path of ['/index.html', '/public/app.js', '/../package.json', '/%2e%2e/package.json', '/app.js/..%2fpackage.json']) {
        const res = await request(bff.url).get(path);
        expect([400, 404]).toContain(res.status);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      }
    });

    it('uses only the public API and the sandbox login: no other BFF path appears in the script', () => {
      const script = readFileSync(new URL('../../public/app.js', import.meta.url), 'utf8');
      const paths = new Set([...script.matchAll(/['`](\/(?:api|auth|admin|demo)[^'`$?]*)/g)].map((m) => m[1]));
      for (const path of paths) expect(path).toMatch(/^\/api\/v1\/(sandbox\/login|aspsps|connections|consents|payments|events)(\/|$)|^\/demo\/config\.json$/);
      expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
      expect(script).not.toMatch(/localStorage/);
    });

    it('tells the page where the sandbox is, and documents that in the OpenAPI', async () => {
      const res = await request(bff.url).get('/demo/config.json').expect(200);
      expect(res.body).toEqual({ sandboxUrl: 'http://127.0.0.1:3999', publicUrl: bff.url });
      const docs = await request(bff.url).get('/docs-json').expect(200);
      expect(Object.keys(docs.body.paths)).toContain('/demo/config.json');
      expect(Object.keys(docs.body.paths)).not.toContain('/app.js');
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
      for (const path of ['/', '/app.js', '/demo/config.json']) {
        const res = await request(bff.url).get(path).expect(404);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      }
    } finally {
      await bff.close();
    }
  });
});
