import request from 'supertest';
import { ERROR_CATALOGUE, ERROR_CODES } from '../../src/common/errors/error-codes.js';
import { startTestBff, type TestBff } from '../support/bff.js';

interface Schema {
  enum?: string[];
  properties?: Record<string, { enum?: string[]; $ref?: string }>;
}
interface OpenApi {
  paths: Record<
    string,
    Record<
      string,
      { responses: Record<string, { content?: Record<string, { schema?: { allOf?: { $ref?: string }[]; properties?: { code?: { enum?: string[] } } } }> }> }
    >
  >;
  components: { schemas: Record<string, Schema> };
}

/** Every code the API can answer is in its OpenAPI document, and the routes say which they answer. */
describe('the error catalogue in /docs-json', () => {
  let bff: TestBff;
  let doc: OpenApi;

  beforeAll(async () => {
    bff = await startTestBff({ SCHEDULER_ENABLED: 'false' });
    doc = (await request(bff.url).get('/docs-json').expect(200)).body as OpenApi;
  });
  afterAll(async () => {
    await bff?.close();
  });

  it('lists every code of the catalogue in the ProblemDetails schema', () => {
    const code = doc.components.schemas.ProblemDetails?.properties?.code;
    // A described $ref is wrapped (allOf) by the generator: look for the reference itself.
    expect(JSON.stringify(code)).toContain('"#/components/schemas/ErrorCode"');
    expect([...(doc.components.schemas.ErrorCode.enum ?? [])].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('documents the problem answers of the routes that call a bank', () => {
    const problemsOf = (path: string, method: string) =>
      Object.entries(doc.paths[path][method].responses)
        .filter(([, r]) => r.content?.['application/problem+json']?.schema?.allOf?.[0]?.$ref?.endsWith('/ProblemDetails'))
        .map(([status]) => Number(status));
    expect(problemsOf('/api/v1/connections/{id}/payments', 'post')).toEqual(expect.arrayContaining([400, 404, 409, 422, 502, 503, 504]));
    expect(problemsOf('/api/v1/consents/{consentId}/accounts', 'get')).toEqual(expect.arrayContaining([404, 409, 503, 504]));
    expect(problemsOf('/api/v1/payments/{id}', 'delete')).toContain(ERROR_CATALOGUE.payment_not_cancellable.status);
    expect(problemsOf('/api/v1/connections/{id}/consents', 'post')).toContain(ERROR_CATALOGUE.service_not_granted.status);
  });

  it('narrows each problem answer to the codes the route gives with that status', () => {
    const codesOf = (path: string, method: string, status: number) =>
      doc.paths[path][method].responses[status].content?.['application/problem+json']?.schema?.properties?.code?.enum;
    expect(codesOf('/api/v1/payments/{id}', 'delete', 409)).toEqual(['payment_not_cancellable', 'reauth_required']);
    // Every authenticated route: the token, the per-user rate limit, the identity provider's keys.
    expect(codesOf('/api/v1/me', 'get', 401)).toEqual(['unauthenticated']);
    expect(codesOf('/api/v1/me', 'get', 429)).toEqual(['rate_limited']);
    expect(codesOf('/api/v1/me', 'get', 503)).toEqual(['database_unavailable', 'service_unavailable']);
    // A route with a body: the pipeline's answers to a body it cannot read.
    expect(codesOf('/api/v1/connections', 'post', 400)).toEqual(['malformed_json', 'validation_failed']);
    expect(codesOf('/api/v1/connections', 'post', 415)).toEqual(['unsupported_media_type']);
  });
});
