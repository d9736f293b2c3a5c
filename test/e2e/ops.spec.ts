import request from 'supertest';
import { startTestBff, type TestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';

describe('ops surface and error shape', () => {
  let bff: TestBff;

  beforeAll(async () => {
    bff = await startTestBff();
  });
  afterAll(async () => {
    await bff.close();
  });

  it('answers liveness, and readiness only while the database answers', async () => {
    await request(bff.url).get('/health/live').expect(200, { status: 'ok' });
    const ready = await request(bff.url).get('/health/ready').expect(200);
    expect(ready.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });

  it('has applied the migrations to a real database', async () => {
    const rows = await withClient(bff.db.url, async (c) => (await c.query('SELECT count(*)::int AS n FROM schema_migrations')).rows);
    expect(rows[0].n).toBeGreaterThanOrEqual(0);
  });

  it('serves an OpenAPI 3 document and the docs page', async () => {
    const doc = await request(bff.url).get('/docs-json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(doc.body.info.title).toBe('tpp-bff');
    expect(Object.keys(doc.body.paths)).toContain('/health/ready');
    const page = await request(bff.url).get('/docs').expect(200);
    expect(page.text).toContain('swagger');
  });

  it('exposes Prometheus metrics with HTTP histograms by route and process metrics', async () => {
    await request(bff.url).get('/health/live').expect(200);
    const metrics = await request(bff.url).get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.text).toMatch(/http_server_request_duration_seconds_count\{[^}]*method="GET",route="\/health\/live",status="200"\} [1-9]/);
    expect(metrics.text).toContain('process_resident_memory_bytes');
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await request(bff.url).get('/api/v1/nothing-here').expect(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 404, code: 'not_found', title: 'Not found' });
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  it('answers malformed JSON with 400, an oversized body with 413, other content types with 415', async () => {
    const malformed = await request(bff.url).post('/api/v1/connections').set('Content-Type', 'application/json').send('{"aspspId": ').expect(400);
    expect(malformed.body).toMatchObject({ code: 'malformed_json', status: 400 });
    expect(malformed.body.requestId).toBe(malformed.headers['x-request-id']);

    const big = JSON.stringify({ returnUrl: 'x'.repeat(101 * 1024) });
    const tooLarge = await request(bff.url).post('/api/v1/connections').set('Content-Type', 'application/json').send(big).expect(413);
    expect(tooLarge.body).toMatchObject({ code: 'payload_too_large', status: 413 });
    expect(tooLarge.headers['content-type']).toContain('application/problem+json');

    const form = await request(bff.url).post('/api/v1/connections').type('form').send('aspspId=flowe').expect(415);
    expect(form.body.code).toBe('unsupported_media_type');

    // JSON is UTF-8 (RFC 8259): a body that says it is another charset is refused, not misread.
    const latin1 = await request(bff.url).post('/api/v1/connections').set('Content-Type', 'application/json; charset=ISO-8859-1').send('{"aspspId":"flowe"}');
    expect(latin1.status).toBe(415);
    expect(latin1.body).toMatchObject({ code: 'unsupported_media_type', detail: expect.stringContaining('ISO-8859-1') });
    // UTF-8, however spelled, is read (and then refused for want of a token, not for its charset).
    const utf8 = await request(bff.url).post('/api/v1/connections').set('Content-Type', 'application/json; charset="UTF-8"').send('{}');
    expect(utf8.status).toBe(401);
  });

  it('refuses prototype keys and deeply nested JSON with a 400, without crashing', async () => {
    const post = (body: string) => request(bff.url).post('/api/v1/connections').set('Content-Type', 'application/json').send(body);
    for (const body of ['{"aspspId":"flowe","__proto__":{"admin":true}}', '{"a":{"constructor":{"prototype":{"x":1}}}}']) {
      const res = await post(body).expect(400);
      expect(res.body.code).toBe('malformed_json');
    }
    const twenty = await post('{"services":' + '{"a":'.repeat(20) + '1' + '}'.repeat(20) + '}').expect(400);
    expect(twenty.body).toMatchObject({ code: 'validation_failed', detail: expect.stringContaining('nested deeper') });
    // Extreme depth already fails while parsing; either way a 400 and the process lives on.
    for (const body of ['{"aspspId":' + '['.repeat(5000) + ']'.repeat(5000) + '}', '{"services":' + '{"a":'.repeat(3000) + '1' + '}'.repeat(3000) + '}']) {
      const res = await post(body).expect(400);
      expect(['malformed_json', 'validation_failed']).toContain(res.body.code);
    }
    await request(bff.url).get('/health/live').expect(200);
  });

  it('keeps a well-formed X-Request-ID and replaces a malformed one', async () => {
    const kept = await request(bff.url).get('/health/live').set('X-Request-ID', 'frontend-req-12345678').expect(200);
    expect(kept.headers['x-request-id']).toBe('frontend-req-12345678');
    const replaced = await request(bff.url).get('/health/live').set('X-Request-ID', 'bad id\twith spaces').expect(200);
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends security headers and no-store on API responses', async () => {
    const res = await request(bff.url).get('/api/v1/nothing-here');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('answers liveness with the same security headers, no-store and the request id, and HEAD without a body', async () => {
    const res = await request(bff.url).get('/health/live').set('X-Request-ID', 'probe-req-12345678').expect(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-request-id']).toBe('probe-req-12345678');
    expect(res.headers['x-powered-by']).toBeUndefined();
    const head = await request(bff.url).head('/health/live').expect(200);
    expect(head.text).toBeUndefined();
    await request(bff.url).post('/health/live').expect(404);
  });

  it('reports not ready once the database is gone', async () => {
    const other = await startTestBff();
    try {
      await request(other.url).get('/health/ready').expect(200);
      await other.db.drop();
      const res = await request(other.url).get('/health/ready').expect(503);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.code).toBe('service_unavailable');
    } finally {
      await other.app.close();
    }
  });
});
