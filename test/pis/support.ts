import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { sandboxLogin } from '../support/bank-login.js';
import type { TestBff } from '../support/bff.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { bankEnv, connectUser, sandboxRequests } from '../support/bank-world.js';

/**
 * BFF env for these suites: the banks at this sandbox, and no background scheduler, so each test
 * decides when a payment is polled (it calls PaymentsService.pollStatus as the scheduler would).
 */
export function pisEnv(sandbox: SandboxApp, extra: Record<string, string> = {}): Record<string, string> {
  return { ...bankEnv(sandbox), SCHEDULER_ENABLED: 'false', ...extra };
}

export { IBAN, paymentBody, type PaymentBody } from '../support/payment-fixtures.js';

/** Logs the PSU in at the sandbox bank through the BFF and returns the active connection's id. */
export async function connect(bff: TestBff, userToken: string, username: string, aspspId: string, services?: string[]): Promise<string> {
  return (await connectUser(bff.url, username, aspspId, services, userToken)).connectionId;
}

export async function userToken(bff: TestBff, userId: string): Promise<string> {
  return sandboxLogin(bff.url, userId);
}

/** POST a payment; `key` null sends no Idempotency-Key header. */
export function pay(bff: TestBff, token: string, connectionId: string, body: unknown, key: string | null = randomUUID()): request.Test {
  const req = request(bff.url).post(`/api/v1/connections/${connectionId}/payments`).set('Authorization', `Bearer ${token}`);
  if (key !== null) req.set('Idempotency-Key', key);
  return req.send(body as object);
}

export function getPayment(bff: TestBff, token: string, id: string, refresh = false): request.Test {
  return request(bff.url)
    .get(`/api/v1/payments/${id}${refresh ? '?refresh=true' : ''}`)
    .set('Authorization', `Bearer ${token}`);
}

/** The PSU approves or rejects in the bank app. */
export async function decide(sandboxUrl: string, bankPaymentId: string, decision: 'approve' | 'reject'): Promise<void> {
  const res = await fetch(`${sandboxUrl}/psu/api/decisions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'payment', id: bankPaymentId, decision }),
  });
  if (res.status !== 200) throw new Error(`decision answered ${res.status}`);
}

/** Payment initiations the sandbox received (route `payments`). */
export async function initiationsAtBank(sandboxUrl: string, profile?: string): Promise<number> {
  return (await sandboxRequests(sandboxUrl, { route: 'payments', profile })).length;
}
