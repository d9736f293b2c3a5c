import { Writable } from 'node:stream';
import { pino } from 'pino';
import { redactUrl, secretCensor } from '../../src/common/logging/redaction.js';

/** What a pino logger configured like the app's writes for `entry`. */
function logged(entry: Record<string, unknown>, extraHeaders: string[] = []): string {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out += chunk.toString();
      done();
    },
  });
  pino({ formatters: { log: secretCensor(extraHeaders) } }, sink).info(entry, 'line');
  return out;
}

describe('log redaction', () => {
  it('strips the secret query parameters of a logged URL and keeps the rest', () => {
    expect(redactUrl('/auth/flowe/callback?code=abc&state=def&flowid=42')).toBe('/auth/flowe/callback?code=%5BREDACTED%5D&state=%5BREDACTED%5D&flowid=42');
    expect(redactUrl('/auth/flowe/login?Ticket=t-123')).not.toContain('t-123');
    expect(redactUrl('/api/v1/consents')).toBe('/api/v1/consents');
  });

  it('censors tokens, codes, secrets and cookies wherever they are in the entry, up to four levels deep', () => {
    const line = logged({
      req: { headers: { authorization: 'Bearer user-jwt', cookie: 'tpp_login=binding' } },
      tokens: { access_token: 'bank-access', refresh_token: 'bank-refresh' },
      call: { body: { form: { client_secret: 'shh', code: 'auth-code' } } },
      aspspId: 'flowe',
    });
    for (const secret of ['user-jwt', 'binding', 'bank-access', 'bank-refresh', 'shh', 'auth-code']) expect(line).not.toContain(secret);
    expect(line).toContain('"aspspId":"flowe"');
  });

  it('censors the OAuth code where it is one: token request bodies, callback queries and route parameters', () => {
    const line = logged({
      form: { grant_type: 'authorization_code', code: 'code-in-form' },
      request: { body: { code: 'code-in-body' } },
      req: { query: { code: 'code-in-query', flowid: 'GetPSD2AuthCode' }, params: { code: 'code-in-params' } },
      exchange: { call: { form: { code: 'code-deep' } } },
    });
    for (const secret of ['code-in-form', 'code-in-body', 'code-in-query', 'code-in-params', 'code-deep']) expect(line).not.toContain(secret);
    expect(line).toContain('GetPSD2AuthCode');
  });

  it('keeps error codes readable: network errors, SQLSTATEs and our own problem codes', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const cancelled = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
    const line = logged({
      err: refused,
      cause: { driverError: cancelled },
      code: 'bank_timeout',
      bank: { errorCode: 'UND_ERR_CONNECT_TIMEOUT', code: 'ECONNRESET' },
    });
    const parsed = JSON.parse(line) as {
      err: { code: string };
      cause: { driverError: { code: string } };
      code: string;
      bank: { code: string; errorCode: string };
    };
    expect(parsed.err.code).toBe('ECONNREFUSED');
    expect(parsed.cause.driverError.code).toBe('57014');
    expect(parsed.code).toBe('bank_timeout');
    expect(parsed.bank).toEqual({ errorCode: 'UND_ERR_CONNECT_TIMEOUT', code: 'ECONNRESET' });
  });

  it("censors a bank's own subscription-key header, named in its configuration", () => {
    const line = logged({ headers: { 'x-flowe-key': 'subscription-secret', accept: 'application/json' } }, ['X-Flowe-Key']);
    expect(line).not.toContain('subscription-secret');
    expect(line).toContain('application/json');
  });
  it('censors secrets inside errors and their causes, and keeps them errors with their message', () => {
    const cause = Object.assign(new Error('token endpoint said no'), { form: { code: 'code-in-cause' } });
    const err = Object.assign(new Error('exchange failed', { cause }), { request: { headers: { Authorization: 'Bearer in-error' } }, code: 'ECONNRESET' });
    const line = logged({ err });
    for (const secret of ['code-in-cause', 'in-error']) expect(line).not.toContain(secret);
    const parsed = JSON.parse(line) as { err: { type: string; message: string; stack: string; code: string } };
    expect(parsed.err).toMatchObject({ type: 'Error', code: 'ECONNRESET' });
    expect(parsed.err.message).toContain('exchange failed');
    expect(parsed.err.stack).toContain('exchange failed');
  });

  it('never changes what was logged: only a copy is censored', () => {
    const entry = { call: { headers: { authorization: 'Bearer kept-by-caller' } }, list: [{ token: 't-1' }] };
    const err = Object.assign(new Error('x'), { password: 'kept-in-error' });
    const line = logged({ ...entry, err });
    expect(line).not.toMatch(/kept-by-caller|t-1|kept-in-error/);
    expect(entry.call.headers.authorization).toBe('Bearer kept-by-caller');
    expect(entry.list[0]!.token).toBe('t-1');
    expect(err.password).toBe('kept-in-error');
  });
});
