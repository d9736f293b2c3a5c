import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { withClient } from '../support/database.js';
import { paymentBody } from '../support/payment-fixtures.js';
import { admin, connectUser, nextStatusWindow, startBankWorld, type BankWorld } from '../support/bank-world.js';
import { auth, validConsent } from '../ais/support.js';
import { scrape } from '../scheduler/support.js';

/** Values of one metric's series whose labels include all of `labels`. */
function series(metrics: string, name: string, labels: Record<string, string> = {}): number[] {
  return metrics
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
    .map((line) => Number(line.split(' ').at(-1)));
}

describe('bank metrics after an end-to-end flow', () => {
  let world: BankWorld;
  beforeAll(async () => {
    world = await startBankWorld({ env: { SCHEDULER_ENABLED: 'false', FLOWE_BREAKER_THRESHOLD: '2', FLOWE_BREAKER_HALF_OPEN_MS: '200' } });
  });
  afterAll(async () => {
    await world.close();
  });

  it('per bank and operation: latency by status class, errors by cause, timeouts, 429s, circuits and their transitions, refreshes by outcome', async () => {
    const alice = await connectUser(world.bff.url, 'alice', 'flowe');
    const consentId = await validConsent(world, alice);
    await request(world.bff.url).get(`/api/v1/consents/${consentId}/accounts?refresh=true`).set(auth(alice.token)).expect(200);
    const paid = await request(world.bff.url)
      .post(`/api/v1/connections/${alice.connectionId}/payments`)
      .set(auth(alice.token))
      .set('Idempotency-Key', randomUUID())
      .send(paymentBody());
    expect(paid.status).toBe(201);
    await nextStatusWindow();
    await request(world.bff.url).get(`/api/v1/payments/${paid.body.id}?refresh=true`).set(auth(alice.token)).expect(200);
    // A refresh: the access token is due.
    await withClient(world.bff.db.url, (c) =>
      c.query("UPDATE connections SET access_token_expires_at = now() - interval '1 minute' WHERE id = $1", [alice.connectionId]),
    );
    await request(world.bff.url).get(`/api/v1/consents/${consentId}/accounts?refresh=true`).set(auth(alice.token)).expect(200);
    // A 429 (bank_rate_limited is served from storage), then two 503s open the API circuit; it closes again.
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'balances', force429: true, times: 1 });
    const accountId = (await request(world.bff.url).get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token))).body.accounts[0].id as string;
    await request(world.bff.url).get(`/api/v1/consents/${consentId}/accounts/${accountId}/balances?refresh=true`).set(auth(alice.token));
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'accounts', errorRate: 1, errorStatus: 503 });
    for (let i = 0; i < 2; i++) await request(world.bff.url).get(`/api/v1/consents/${consentId}/accounts?refresh=true`).set(auth(alice.token)).expect(503);
    await admin(world.sandbox.httpUrl, 'faults', undefined, 'DELETE');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await request(world.bff.url).get(`/api/v1/consents/${consentId}/accounts?refresh=true`).set(auth(alice.token)).expect(200);

    const metrics = await scrape(world.bff.url);
    for (const operation of ['token', 'consent', 'consent-status', 'accounts', 'payment', 'payment-status']) {
      expect(
        series(metrics, 'bank_call_duration_seconds_count', { aspsp: 'flowe', operation, status_class: '2xx' }).reduce((a, b) => a + b, 0),
      ).toBeGreaterThan(0);
    }
    expect(series(metrics, 'bank_call_duration_seconds_bucket', { aspsp: 'flowe', operation: 'accounts', status_class: '5xx' }).length).toBeGreaterThan(0);
    expect(series(metrics, 'bank_errors_total', { aspsp: 'flowe', operation: 'accounts', cause: 'server_error' })[0]).toBeGreaterThanOrEqual(1);
    expect(series(metrics, 'bank_rate_limited_total', { aspsp: 'flowe', operation: 'balances' })[0]).toBe(1);
    expect(series(metrics, 'bank_token_refreshes_total', { aspsp: 'flowe', outcome: 'ok' })[0]).toBeGreaterThanOrEqual(1);
    // Opened at least once (a slow machine may let a half-open probe fail and reopen it), closed again at the end.
    expect(series(metrics, 'bank_circuit_transitions_total', { aspsp: 'flowe', endpoint: 'api', to: 'open' })[0]).toBeGreaterThanOrEqual(1);
    expect(series(metrics, 'bank_circuit_transitions_total', { aspsp: 'flowe', endpoint: 'api', to: 'half_open' })[0]).toBeGreaterThanOrEqual(1);
    expect(series(metrics, 'bank_circuit_transitions_total', { aspsp: 'flowe', endpoint: 'api', to: 'closed' })[0]).toBe(1);
    expect(series(metrics, 'bank_circuit_state', { aspsp: 'flowe', endpoint: 'api' })).toEqual([0]);
    expect(series(metrics, 'bank_circuit_state', { aspsp: 'connectpay', endpoint: 'token' })).toEqual([0]);
    // Declared even before they count anything.
    for (const name of [
      'bank_timeouts_total',
      'bank_calls_coalesced_total',
      'bank_status_reads_deferred_total',
      'bank_calls_shed_total',
      'api_requests_coalesced_total',
    ]) {
      expect(metrics).toContain(`# TYPE ${name} counter`);
    }
  });
});
