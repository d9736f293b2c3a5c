import { expect } from '@jest/globals';
import request from 'supertest';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import type { SandboxOptions } from '../../src/sandbox/config.js';
import { withClient, type TestDatabase } from '../support/database.js';
import { admin, bankEnv, connectUser, startBankWorld, type BankWorld, type Connected } from '../support/bank-world.js';

export { admin };

/** The scheduler stays off: these suites drive polling and refreshes themselves, call by call. */
export function aisEnv(sandbox: SandboxApp, extra: Record<string, string> = {}): Record<string, string> {
  return { ...bankEnv(sandbox), SCHEDULER_ENABLED: 'false', ...extra };
}

export type AisWorld = BankWorld;

export function startAisWorld(options: { sandbox?: SandboxOptions; env?: Record<string, string>; db?: TestDatabase } = {}): Promise<AisWorld> {
  return startBankWorld({ ...options, env: { SCHEDULER_ENABLED: 'false', ...options.env } });
}

export type { Connected };

/** A user with an active connection to a bank (the whole login at the sandbox). */
export const connect = connectUser;

export const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

export async function createConsent(bffUrl: string, c: Connected, body: Record<string, unknown> = {}): Promise<Record<string, unknown> & { id: string }> {
  const res = await request(bffUrl).post(`/api/v1/connections/${c.connectionId}/consents`).set(auth(c.token)).send(body);
  expect(res.status).toBe(201);
  return res.body;
}

export async function bankConsentIdOf(db: TestDatabase, consentId: string): Promise<string> {
  return withClient(
    db.url,
    async (client) => (await client.query('SELECT bank_consent_id FROM ais_consents WHERE id = $1', [consentId])).rows[0].bank_consent_id as string,
  );
}

/** The PSU approves (or rejects) in the bank app. */
export async function decide(sandboxUrl: string, kind: 'consent' | 'payment', id: string, decision: 'approve' | 'reject'): Promise<void> {
  const res = await fetch(`${sandboxUrl}/psu/api/decisions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind, id, decision }),
  });
  expect(res.status).toBe(200);
}

/** Consent → PSU approves → the BFF asks the bank once (GET ?refresh=true) → valid. */
export async function validConsent(world: AisWorld, c: Connected, body: Record<string, unknown> = {}): Promise<string> {
  const consent = await createConsent(world.bff.url, c, body);
  await decide(world.sandbox.httpUrl, 'consent', await bankConsentIdOf(world.bff.db, consent.id), 'approve');
  const res = await request(world.bff.url).get(`/api/v1/consents/${consent.id}?refresh=true`).set(auth(c.token)).expect(200);
  expect(res.body.status).toBe('valid');
  return consent.id;
}

export interface LoggedBankRequest {
  seq: number;
  sandboxTime: string;
  profile: string;
  route: string;
  method: string;
  path: string;
  consentId?: string;
  resourceId?: string;
  psuIpPresent: boolean;
  psuIp?: string;
  status: number;
}

export async function bankRequests(sandboxUrl: string, filter: { profile?: string; route?: string } = {}): Promise<LoggedBankRequest[]> {
  const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => Boolean(e[1])));
  const res = await fetch(`${sandboxUrl}/admin/requests?${query.toString()}`);
  return ((await res.json()) as { requests: LoggedBankRequest[] }).requests;
}

/** AIS data requests (accounts, balances, transactions) that reached the bank for one bank consent. */
export async function aisReads(sandboxUrl: string, bankConsentId: string): Promise<LoggedBankRequest[]> {
  const all = await bankRequests(sandboxUrl);
  return all.filter((r) => r.consentId === bankConsentId && ['accounts', 'account', 'balances', 'transactions'].includes(r.route));
}

export async function outboxEvents(db: TestDatabase, consentId: string): Promise<{ type: string; payload: Record<string, unknown> }[]> {
  return withClient(
    db.url,
    async (client) => (await client.query("SELECT type, payload FROM outbox_events WHERE payload->>'consentId' = $1 ORDER BY id", [consentId])).rows,
  );
}

export async function pollItems(db: TestDatabase, consentId: string): Promise<string[]> {
  return withClient(db.url, async (client) =>
    (await client.query('SELECT kind FROM poll_items WHERE resource_id = $1 ORDER BY kind', [consentId])).rows.map((r) => r.kind as string),
  );
}

/** Unattended requests carrying the consent (the uses a bank counts against frequencyPerDay). */
export async function unattendedUses(sandboxUrl: string, bankConsentId: string): Promise<LoggedBankRequest[]> {
  return (await aisReads(sandboxUrl, bankConsentId)).filter((r) => !r.psuIpPresent);
}

/**
 * Moves both sides' clocks `seconds` forward: the sandbox's clock, and every time the BFF keeps for
 * AIS (budget ledger, poll items, consents, accounts, access-token expiry) moved back as far, which
 * is the same to a BFF that compares them with now(). Call it while no poll is running.
 */
export async function passTime(world: AisWorld, seconds: number): Promise<void> {
  await admin(world.sandbox.httpUrl, 'clock', { advanceSeconds: seconds });
  const back = (table: string, columns: string[]) => `UPDATE ${table} SET ${columns.map((c) => `${c} = ${c} - make_interval(secs => $1)`).join(', ')}`;
  await withClient(world.bff.db.url, async (c) => {
    for (const statement of [
      back('ais_unattended_reads', ['read_at']),
      back('poll_items', ['next_poll_at', 'last_polled_at', 'started_at', 'status_since', 'deadline_at', 'lease_until']),
      back('ais_consents', ['budget_blocked_until', 'accounts_fetched_at', 'status_changed_at', 'created_at']),
      back('ais_accounts', ['balances_fetched_at', 'transactions_fetched_at']),
      back('connections', ['access_token_expires_at']),
    ]) {
      await c.query(statement, [seconds]);
    }
  });
}
