import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import type { AspspAdapter } from '../../src/aspsp/aspsp-adapter.js';
import { BankError } from '../../src/aspsp/bank-error.js';
import { ConnectPayAdapter } from '../../src/aspsp/connectpay/connectpay.adapter.js';
import { FloweAdapter } from '../../src/aspsp/flowe/flowe.adapter.js';
import { BankHttpClient } from '../../src/aspsp/http/bank-http.client.js';
import { banksConfig } from '../../src/config/banks.config.js';
import { assertBerlinGroupRequest, assertBerlinGroupResponse } from '../support/berlin-group-openapi.js';
import { IBAN } from '../support/payment-fixtures.js';

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

type Reply = { status: number; body?: unknown };

/**
 * A scripted bank on a real port: each test says how it answers, and every request it received is
 * kept, so the wire (path, headers, body) is asserted exactly and the answers the sandbox never
 * gives (202 cancellation, odd links, broken bodies) are covered too.
 */
describe('Berlin Group PIS wire (adapters against a scripted bank)', () => {
  let server: Server;
  let url: string;
  let seen: Seen[] = [];
  let reply: (req: Seen) => Reply = () => ({ status: 500 });
  const adapters: AspspAdapter[] = [];

  beforeAll(async () => {
    // Bank calls log through Nest's Logger; without an app around them that is the console.
    if (process.env.TEST_LOG !== '1') Logger.overrideLogger(false);
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const entry: Seen = { method: req.method!, path: req.url!, headers: req.headers, body: raw ? JSON.parse(raw) : undefined };
        seen.push(entry);
        const answer = reply(entry);
        res.writeHead(answer.status, answer.body === undefined ? {} : { 'content-type': 'application/json' });
        res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    seen = [];
  });
  afterAll(async () => {
    await Promise.all(adapters.map((a) => a.http.close()));
    await new Promise((resolve) => server.close(resolve));
  });

  function adapter(id: 'flowe' | 'connectpay'): AspspAdapter {
    const bank = banksConfig.parse({ SANDBOX_URL: url }).banks.find((b) => b.id === id)!;
    const made = id === 'flowe' ? new FloweAdapter(bank, new BankHttpClient(bank)) : new ConnectPayAdapter(bank, new BankHttpClient(bank));
    adapters.push(made);
    return made;
  }

  const order = {
    debtorIban: IBAN.aliceFlowe,
    creditorIban: IBAN.bobFlowe,
    creditorName: 'Bob Bianchi',
    amount: '12.50',
    currency: 'EUR',
    remittanceInformationUnstructured: 'Dinner',
    endToEndIdentification: 'E2E-1',
  };

  it('Flowe: POSTs the guide’s body (IBAN only, EUR, chargeBearer DEBT) with PSU-IP-Address, X-Request-ID and the subscription key', async () => {
    const flowe = adapter('flowe');
    const created = {
      transactionStatus: 'RCVD',
      paymentId: 'PI20213149S1068Z',
      transactionFeeIndicator: false,
      _links: {
        scaStatus: { href: '/v1/payments/sepa-credit-transfers/PI20213149S1068Z/authorisations/PI20213149S1068Z-AUTH-1' },
        self: { href: '/v1/payments/sepa-credit-transfers/PI20213149S1068Z' },
        status: { href: '/v1/payments/sepa-credit-transfers/PI20213149S1068Z/status' },
      },
    };
    assertBerlinGroupResponse('post', '/v1/{payment-service}/{payment-product}', 201, created);
    reply = () => ({ status: 201, body: created });
    const result = await flowe.pis.initiate('access-token', '203.0.113.7', flowe.paymentBody(order));
    expect(result).toEqual({ paymentId: 'PI20213149S1068Z', transactionStatus: 'RCVD', authorisationId: 'PI20213149S1068Z-AUTH-1', scaStatus: 'received' });
    const [req] = seen;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/flowe/openbankingpis/v1/payments/sepa-credit-transfers');
    expect(req.headers).toMatchObject({
      'psu-ip-address': '203.0.113.7',
      authorization: 'Bearer access-token',
      'po-apikey': 'flowe-sandbox-subscription-key',
      'content-type': 'application/json',
    });
    expect(req.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(req.body).toEqual({
      endToEndIdentification: 'E2E-1',
      debtorAccount: { iban: IBAN.aliceFlowe },
      instructedAmount: { currency: 'EUR', amount: '12.50' },
      creditorAccount: { iban: IBAN.bobFlowe },
      creditorName: 'Bob Bianchi',
      chargeBearer: 'DEBT',
      remittanceInformationUnstructured: 'Dinner',
    });
    assertBerlinGroupRequest('post', '/v1/{payment-service}/{payment-product}', req.body);
  });

  it('ConnectPay: the same interface with Berlin Group defaults (SLEV, no subscription key), absolute links on its own host', async () => {
    const connectpay = adapter('connectpay');
    reply = () => ({
      status: 201,
      body: {
        transactionStatus: 'RCVD',
        paymentId: 'a7f0c0de-0000-4000-8000-000000000001',
        _links: { scaStatus: { href: `${url}/connectpay/psd2/v1/payments/sepa-credit-transfers/a7f0c0de-0000-4000-8000-000000000001/authorisations/b1` } },
      },
    });
    const result = await connectpay.pis.initiate('t', '198.51.100.1', connectpay.paymentBody({ ...order, endToEndIdentification: undefined }));
    expect(result.authorisationId).toBe('b1');
    expect(seen[0].path).toBe('/connectpay/psd2/v1/payments/sepa-credit-transfers');
    expect(seen[0].headers['po-apikey']).toBeUndefined();
    expect(seen[0].body).toMatchObject({ chargeBearer: 'SLEV' });
    expect(seen[0].body).not.toHaveProperty('endToEndIdentification');
  });

  it('never retries an initiation, even after a 5xx', async () => {
    const flowe = adapter('flowe');
    reply = () => ({ status: 503 });
    await expect(flowe.pis.initiate('t', '203.0.113.7', flowe.paymentBody(order))).rejects.toMatchObject({ kind: 'transient' });
    expect(seen).toHaveLength(1);
  });

  it.each([
    ['no paymentId', { transactionStatus: 'RCVD' }],
    ['a path-like paymentId', { transactionStatus: 'RCVD', paymentId: '../../admin' }],
    ['an unknown status', { transactionStatus: 'DONE', paymentId: 'PI1' }],
    ['no body', undefined],
  ])('treats a 201 with %s as an unreadable answer (kind unexpected)', async (_why, body) => {
    const flowe = adapter('flowe');
    reply = () => ({ status: 201, body });
    const error = await flowe.pis.initiate('t', '203.0.113.7', flowe.paymentBody(order)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BankError);
    expect(error).toMatchObject({ kind: 'unexpected', aspspId: 'flowe' });
  });

  it('reads the status and the SCA status of the authorisation from _links', async () => {
    const flowe = adapter('flowe');
    reply = (req) => (req.path.endsWith('/status') ? { status: 200, body: { transactionStatus: 'ACSP' } } : { status: 200, body: { scaStatus: 'finalised' } });
    await expect(flowe.pis.status('t', 'PI1')).resolves.toBe('ACSP');
    await expect(flowe.pis.scaStatus('t', 'PI1', 'PI1-AUTH-1')).resolves.toBe('finalised');
    expect(seen.map((s) => s.path)).toEqual([
      '/flowe/openbankingpis/v1/payments/sepa-credit-transfers/PI1/status',
      '/flowe/openbankingpis/v1/payments/sepa-credit-transfers/PI1/authorisations/PI1-AUTH-1',
    ]);
    expect(seen.every((s) => s.headers['psu-ip-address'] === undefined)).toBe(true);
  });

  it('maps cancellation answers: 204 cancelled, 202 authorisation required, 405 not cancellable', async () => {
    const flowe = adapter('flowe');
    reply = () => ({ status: 204 });
    await expect(flowe.pis.cancel('t', 'PI1', '203.0.113.7')).resolves.toEqual({ outcome: 'cancelled' });
    expect(seen[0]).toMatchObject({ method: 'DELETE', path: '/flowe/openbankingpis/v1/payments/sepa-credit-transfers/PI1' });
    reply = () => ({
      status: 202,
      body: { transactionStatus: 'ACTC', _links: { startAuthorisation: { href: '/v1/payments/sepa-credit-transfers/PI1/cancellation-authorisations' } } },
    });
    await expect(flowe.pis.cancel('t', 'PI1')).resolves.toEqual({ outcome: 'authorisation_required', transactionStatus: 'ACTC' });
    reply = () => ({ status: 405, body: { tppMessages: [{ category: 'ERROR', code: 'CANCELLATION_INVALID', text: 'too late' }] } });
    await expect(flowe.pis.cancel('t', 'PI1')).resolves.toEqual({ outcome: 'not_cancellable', bankCode: 'CANCELLATION_INVALID' });
    reply = () => ({ status: 403, body: { tppMessages: [{ category: 'ERROR', code: 'RESOURCE_UNKNOWN' }] } });
    await expect(flowe.pis.cancel('t', 'PI1')).rejects.toMatchObject({ kind: 'rejected', details: { bankCode: 'RESOURCE_UNKNOWN' } });
  });

  it('refuses to put an unusable bank id into a path', async () => {
    const flowe = adapter('flowe');
    for (const id of ['..', '.', 'a/b', 'x?y=1', '']) {
      await expect(flowe.pis.status('t', id)).rejects.toMatchObject({ kind: 'unexpected' });
    }
    expect(seen).toHaveLength(0);
  });
});
