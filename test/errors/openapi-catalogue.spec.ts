import request from 'supertest';
import { ERROR_CATALOGUE, ERROR_CODES } from '../../src/common/errors/error-codes.js';
import { startTestBff, type TestBff } from '../support/bff.js';

interface Schema {
  enum?: string[];
  properties?: Record<string, { enum?: string[]; $ref?: string }>;
}
interface OpenApi {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }>>;
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
        .filter(([, r]) => r.content?.['application/problem+json']?.schema?.$ref?.endsWith('/ProblemDetails'))
        .map(([status]) => Number(status));
    expect(problemsOf('/api/v1/connections/{id}/payments', 'post')).toEqual(expect.arrayContaining([400, 404, 409, 422, 502, 503, 504]));
    expect(problemsOf('/api/v1/consents/{consentId}/accounts', 'get')).toEqual(expect.arrayContaining([404, 409, 503, 504]));
    expect(problemsOf('/api/v1/payments/{id}', 'delete')).toContain(ERROR_CATALOGUE.payment_not_cancellable.status);
    expect(problemsOf('/api/v1/connections/{id}/consents', 'post')).toContain(ERROR_CATALOGUE.service_not_granted.status);
  });
});
