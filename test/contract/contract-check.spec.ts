import { sandboxLogin } from '../support/bank-login.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { contractViolations, takeRecorded, type RecordedResponse } from '../support/contract.js';

/**
 * The contract check itself: it passes answers as the server sends them and fails each way an
 * answer can leave the document (a renamed field, an undocumented status, header or media type).
 */
describe('the API contract check', () => {
  let bff: TestBff;
  let created: RecordedResponse;
  let listed: RecordedResponse;
  let refused: RecordedResponse;

  beforeAll(async () => {
    bff = await startTestBff({ SCHEDULER_ENABLED: 'false' });
    const token = await sandboxLogin(bff.url, 'alice');
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    await fetch(`${bff.url}/api/v1/connections`, { method: 'POST', headers, body: JSON.stringify({ aspspId: 'flowe', returnUrl: `${bff.url}/` }) });
    await fetch(`${bff.url}/api/v1/connections`, { headers });
    await fetch(`${bff.url}/api/v1/payments?limit=2.5`, { headers });
    // Give the recorder the close events of those answers.
    await new Promise((r) => setTimeout(r, 50));
    const recorded = takeRecorded();
    const find = (method: string, path: string) => recorded.find((r) => r.method === method && r.path === path)!;
    created = find('post', '/api/v1/connections');
    listed = find('get', '/api/v1/connections');
    refused = find('get', '/api/v1/payments');
  });
  afterAll(async () => {
    await bff?.close();
  });

  const withBody = (r: RecordedResponse, edit: (body: Record<string, unknown>) => void): RecordedResponse => {
    const body = JSON.parse(r.body) as Record<string, unknown>;
    edit(body);
    return { ...r, body: JSON.stringify(body) };
  };

  it('passes the answers the server sends', () => {
    expect([created.status, listed.status, refused.status]).toEqual([201, 200, 400]);
    expect([...contractViolations(created), ...contractViolations(listed), ...contractViolations(refused)]).toEqual([]);
  });

  it('fails a renamed field, in a body and in a list envelope', () => {
    const renamed = withBody(created, (body) => {
      body.bankId = body.aspspId;
      delete body.aspspId;
    });
    expect(contractViolations(renamed).join('\n')).toMatch(/required property 'aspspId'.*bankId|bankId.*aspspId/s);
    const envelope = withBody(listed, (body) => {
      body.items = body.connections;
      delete body.connections;
    });
    expect(contractViolations(envelope)).not.toEqual([]);
  });

  it('fails a problem code the route does not list, and a field of the wrong format', () => {
    expect(contractViolations(withBody(refused, (body) => (body.code = 'bank_timeout')))).not.toEqual([]);
    expect(contractViolations(withBody(created, (body) => (body.createdAt = 'yesterday')))).not.toEqual([]);
  });

  it('fails an undocumented status, header or media type, and a missing required header', () => {
    expect(contractViolations({ ...listed, status: 418 })).toEqual([expect.stringContaining('status 418 is not documented')]);
    expect(contractViolations({ ...listed, headers: { ...listed.headers, 'x-debug': '1' } })).toEqual([
      expect.stringContaining('header x-debug is not documented'),
    ]);
    expect(contractViolations({ ...listed, headers: { ...listed.headers, 'content-type': 'text/html' } })).toEqual([
      expect.stringContaining('media type "text/html"'),
    ]);
    const { ['x-request-id']: _, ...withoutId } = created.headers;
    expect(contractViolations({ ...created, headers: withoutId })).toEqual([expect.stringContaining('required header x-request-id is missing')]);
  });
});
