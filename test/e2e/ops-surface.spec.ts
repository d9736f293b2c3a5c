import { freePort, startTestBff, type TestBff } from '../support/bff.js';
import { PRODUCTION_ENV } from '../support/env.js';
import { signingKey } from '../identity/support.js';

const OPS_TOKEN = 'ops-token-7f1d2c9a0b8e4f6a1c3d5e7f9a0b2c4d';
const SURFACE = ['/metrics', '/docs', '/docs-json', '/docs-yaml', '/docs/swagger-ui.css', '/DOCS-JSON', '/Metrics'];

async function get(url: string, token?: string): Promise<Response> {
  return fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

/** The ops action that re-sends a webhook event: 409 here (no webhook configured) means it was reached. */
async function replay(base: string, token?: string): Promise<Response> {
  return fetch(`${base}/ops/webhooks/events/1/replay`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });
}

/** Metrics and the API docs are not public in production: an ops port or a bearer token, configurable. */
describe('the ops surface (metrics, API docs) in production mode', () => {
  let publicKey: string;
  const started: TestBff[] = [];
  const production = async (extra: Record<string, string>) => {
    const bff = await startTestBff({ ...PRODUCTION_ENV, AUTH_PUBLIC_KEY: publicKey, ...extra });
    started.push(bff);
    return bff;
  };

  beforeAll(async () => {
    publicKey = (await signingKey('ES256')).publicPem;
  });
  afterAll(async () => {
    for (const bff of started) await bff.close();
  });

  it('is not served at all without OPS_PORT or OPS_TOKEN; health stays public', async () => {
    const bff = await production({});
    for (const path of SURFACE) {
      const res = await get(`${bff.url}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await replay(bff.url)).status).toBe(404);
    expect((await get(`${bff.url}/health/live`)).status).toBe(200);
  });

  it('with OPS_TOKEN, is served on the main port to the bearer of that token only', async () => {
    const bff = await production({ OPS_TOKEN });
    for (const path of ['/metrics', '/docs-json', '/docs/swagger-ui.css']) {
      for (const token of [undefined, 'wrong-token', OPS_TOKEN.slice(0, -1), `${OPS_TOKEN}x`]) {
        const res = await get(`${bff.url}${path}`, token);
        expect({ path, token, status: res.status }).toEqual({ path, token, status: 401 });
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tpp-bff-ops"');
      }
      expect({ path, status: (await get(`${bff.url}${path}`, OPS_TOKEN)).status }).toEqual({ path, status: 200 });
    }
    expect(((await (await get(`${bff.url}/docs-json`, OPS_TOKEN)).json()) as { info: { title: string } }).info.title).toBe('tpp-bff');
    expect((await replay(bff.url)).status).toBe(401);
    expect((await replay(bff.url, OPS_TOKEN)).status).toBe(409);
  });

  it('with OPS_PORT, is served there (with the token when one is set) and not on the main port; the ops port serves nothing else', async () => {
    const opsPort = await freePort();
    const bff = await production({ OPS_PORT: String(opsPort), OPS_HOST: '127.0.0.1', OPS_TOKEN });
    const ops = `http://127.0.0.1:${opsPort}`;
    for (const path of SURFACE) expect({ path, status: (await get(`${bff.url}${path}`, OPS_TOKEN)).status }).toEqual({ path, status: 404 });
    // The webhook replay is reached on the ops port only, with the token.
    expect((await replay(bff.url, OPS_TOKEN)).status).toBe(404);
    expect((await replay(ops)).status).toBe(401);
    expect((await replay(ops, OPS_TOKEN)).status).toBe(409);
    expect((await get(`${ops}/metrics`)).status).toBe(401);
    const metrics = await get(`${ops}/metrics`, OPS_TOKEN);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('process_resident_memory_bytes');
    expect((await get(`${ops}/docs-json`, OPS_TOKEN)).status).toBe(200);
    expect((await get(`${ops}/health/ready`)).status).toBe(200);
    for (const path of ['/api/v1/me', '/api/v1/aspsps', '/auth/flowe/login?ticket=x', '/']) {
      expect({ path, status: (await get(`${ops}${path}`, OPS_TOKEN)).status }).toEqual({ path, status: 404 });
    }
  });
});

describe('the ops surface in sandbox mode', () => {
  let bff: TestBff;
  beforeAll(async () => {
    bff = await startTestBff();
  });
  afterAll(async () => {
    await bff.close();
  });

  it('stays on the main port for anyone', async () => {
    for (const path of ['/metrics', '/docs', '/docs-json']) expect({ path, status: (await get(`${bff.url}${path}`)).status }).toEqual({ path, status: 200 });
  });
});
