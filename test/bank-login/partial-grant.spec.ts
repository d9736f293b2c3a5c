import request from 'supertest';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { finishConnect, sandboxLogin, startConnect } from '../support/bank-login.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { admin, bankEnv, sandboxRequests, startSandbox } from '../support/bank-world.js';
import { IBAN, paymentBody } from '../support/payment-fixtures.js';

/**
 * ConnectPay issues a code when the PSU ticks at least one scope: the connection offers what the
 * bank granted (the token response's `scope`), not what was asked for.
 */
describe('partial grants: the connection has the services the bank granted', () => {
  let sandbox: SandboxApp;
  let bff: TestBff;
  let token: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    bff = await startTestBff({ ...bankEnv(sandbox), SCHEDULER_ENABLED: 'false' });
    token = await sandboxLogin(bff.url, 'alice');
  });
  afterAll(async () => {
    await bff.close();
    await sandbox.close();
  });

  const connectionView = async (id: string) =>
    (await request(bff.url).get(`/api/v1/connections/${id}`).set('Authorization', `Bearer ${token}`).expect(200)).body;

  it('unticking psd2-pis at ConnectPay gives an AIS-only connection; a payment is a 409 service_not_granted with 0 bank calls', async () => {
    const flow = await startConnect(bff.url, token, 'connectpay', { username: 'alice', scopes: ['psd2-ais'] });
    expect(new URL(flow.bankAuthorizeUrl).searchParams.get('scope')).toBe('psd2-ais psd2-pis');
    expect(await finishConnect(flow)).toEqual({ connectionId: flow.connectionId, result: 'success' });
    expect(await connectionView(flow.connectionId)).toMatchObject({ status: 'active', services: ['ais'] });
    const listed = (await request(bff.url).get('/api/v1/connections').set('Authorization', `Bearer ${token}`).expect(200)).body.connections;
    expect(listed.find((c: { id: string }) => c.id === flow.connectionId)).toMatchObject({ services: ['ais'] });

    const before = (await sandboxRequests(sandbox.httpUrl, { profile: 'connectpay' })).length;
    const res = await request(bff.url)
      .post(`/api/v1/connections/${flow.connectionId}/payments`)
      .set('Authorization', `Bearer ${token}`)
      .set('Idempotency-Key', 'partial-grant-1')
      .send(paymentBody({ debtorAccount: { iban: IBAN.aliceConnectPay }, creditorAccount: { iban: IBAN.bobConnectPay } }))
      .expect(409);
    expect(res.body).toMatchObject({ code: 'service_not_granted', requiredService: 'pis', services: ['ais'], aspspId: 'connectpay' });
    expect((await sandboxRequests(sandbox.httpUrl, { profile: 'connectpay' })).length).toBe(before);
    // AIS works: the consent goes to the bank.
    await request(bff.url).post(`/api/v1/connections/${flow.connectionId}/consents`).set('Authorization', `Bearer ${token}`).send({}).expect(201);
  });

  it('unticking psd2-ais gives a PIS-only connection', async () => {
    const flow = await startConnect(bff.url, token, 'connectpay', { username: 'alice', scopes: ['psd2-pis'] });
    expect(await finishConnect(flow)).toMatchObject({ result: 'success' });
    expect(await connectionView(flow.connectionId)).toMatchObject({ status: 'active', services: ['pis'] });
    const consent = await request(bff.url)
      .post(`/api/v1/connections/${flow.connectionId}/consents`)
      .set('Authorization', `Bearer ${token}`)
      .send({})
      .expect(409);
    expect(consent.body).toMatchObject({ code: 'service_not_granted', requiredService: 'ais' });
  });

  it('a token answer without scope means what was requested (RFC 6749 5.1)', async () => {
    await admin(sandbox.httpUrl, 'token-quirks', { profile: 'connectpay', omitScope: true });
    try {
      const flow = await startConnect(bff.url, token, 'connectpay', { username: 'alice' });
      expect(await finishConnect(flow)).toMatchObject({ result: 'success' });
      expect(await connectionView(flow.connectionId)).toMatchObject({ status: 'active', services: ['ais', 'pis'] });
    } finally {
      await admin(sandbox.httpUrl, 'token-quirks', { profile: 'connectpay' });
    }
  });

  it('Flowe grants all or nothing: the full request', async () => {
    const flow = await startConnect(bff.url, token, 'flowe', { username: 'alice' });
    expect(await finishConnect(flow)).toMatchObject({ result: 'success' });
    expect(await connectionView(flow.connectionId)).toMatchObject({ status: 'active', services: ['ais', 'pis'] });
  });
});
