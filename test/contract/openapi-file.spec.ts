import { readFileSync } from 'node:fs';
import request from 'supertest';
import { startTestBff, type TestBff } from '../support/bff.js';
import { OPENAPI_FILE } from '../support/contract.js';

/**
 * The committed document is the contract reviewers read and clients are generated from: it must
 * be exactly what the server serves. After changing a route, a view or a DTO: `npm run openapi`.
 */
describe('specs/tpp-bff.openapi.json', () => {
  let bff: TestBff;

  beforeAll(async () => {
    bff = await startTestBff({ SCHEDULER_ENABLED: 'false' });
  });
  afterAll(async () => {
    await bff?.close();
  });

  it('is the document /docs-json serves (regenerate it with npm run openapi)', async () => {
    const served = (await request(bff.url).get('/docs-json').expect(200)).body as unknown;
    const committed = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as unknown;
    expect(served).toEqual(committed);
  });

  it('is OpenAPI 3.1 with readable, unique operation ids', () => {
    const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as { openapi: string; paths: Record<string, Record<string, { operationId: string }>> };
    expect(doc.openapi).toBe('3.1.0');
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z]+$/);
  });
});
