import request from 'supertest';
import { AisRefreshService } from '../../src/modules/ais/ais-refresh.service.js';
import { startTestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';
import { admin, aisEnv, aisReads, auth, bankConsentIdOf, connect, createConsent, startAisWorld, validConsent, type AisWorld, type Connected } from './support.js';

const DAY_MS = 86_400_000;

describe('AIS budget: unattended refreshes within frequencyPerDay, attended reads free', () => {
  let world: AisWorld;
  let alice: Connected;
  const api = () => request(world.bff.url);
  const refresher = () => world.bff.app.get(AisRefreshService);
  const ledger = (consentId: string) => withClient(world.bff.db.url, async (c) => (await c.query('SELECT count(*)::int AS n FROM ais_unattended_reads WHERE consent_id = $1', [consentId])).rows[0].n as number);

  beforeAll(async () => {
    world = await startAisWorld();
    alice = await connect(world.bff.url, 'alice', 'flowe');
  });
  afterAll(() => world.close());

  it('stops at exactly frequencyPerDay, serves storage with a warning after, keeps attended reads working, and is back after 24 h', async () => {
    const consentId = await validConsent(world, alice);
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    const outcomes = [];
    for (let i = 0; i < 6; i++) outcomes.push(await refresher().refreshUnattended(consentId));
    expect(outcomes.slice(0, 4)).toEqual(Array(4).fill({ refreshed: true, nextAllowedAt: expect.any(Date) }));
    // A successful refresh asks for the next one 24 h / frequency later (4/day: 6 h).
    expect(outcomes[0]!.nextAllowedAt!.getTime() - Date.now()).toBeGreaterThan(6 * 3_600_000 - 60_000);
    for (const o of outcomes.slice(4)) expect(o).toEqual({ refreshed: false, reason: 'budget_spent', nextAllowedAt: expect.any(Date) });
    const nextAllowedAt = outcomes[5]!.nextAllowedAt!.getTime();
    expect(nextAllowedAt).toBeGreaterThan(Date.now() + DAY_MS - 60_000);
    expect(nextAllowedAt).toBeLessThanOrEqual(Date.now() + DAY_MS);

    // At the bank: exactly four unattended reads of each resource, none with the PSU's IP, no 429.
    const reads = await aisReads(world.sandbox.httpUrl, bankId);
    expect(reads.every((r) => !r.psuIpPresent && r.status === 200)).toBe(true);
    expect(reads.filter((r) => r.route === 'accounts')).toHaveLength(4);
    expect(reads.filter((r) => r.route === 'balances')).toHaveLength(4);
    expect(await ledger(consentId)).toBe(4);

    // The frontend still gets data: the stored copy, with a warning saying why and until when.
    const stored = await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200);
    expect(stored.body).toMatchObject({ source: 'storage', warning: { code: 'budget_spent', detail: expect.stringMatching(/4 background reads/), nextRefreshAt: expect.any(String) } });
    const account = stored.body.accounts[0].id as string;
    const transactions = await api().get(`/api/v1/consents/${consentId}/accounts/${account}/transactions`).set(auth(alice.token)).expect(200);
    expect(transactions.body).toMatchObject({ source: 'storage', warning: { code: 'budget_spent' } });
    expect(transactions.body.total).toBeGreaterThan(50);
    expect((await aisReads(world.sandbox.httpUrl, bankId)).length).toBe(reads.length);

    // Attended reads do not spend the budget and still work.
    const attended = await api().get(`/api/v1/consents/${consentId}/accounts?refresh=true`).set(auth(alice.token)).expect(200);
    expect(attended.body.source).toBe('bank');
    expect(attended.body.warning).toBeUndefined();
    await api().get(`/api/v1/consents/${consentId}/accounts/${account}/balances?refresh=true`).set(auth(alice.token)).expect(200);
    expect((await aisReads(world.sandbox.httpUrl, bankId)).slice(reads.length)).toEqual([
      expect.objectContaining({ route: 'accounts', psuIpPresent: true, status: 200 }),
      expect.objectContaining({ route: 'balances', psuIpPresent: true, status: 200 }),
    ]);

    // 24 hours later on both sides (the bank's clock and our ledger's), the budget is back.
    await admin(world.sandbox.httpUrl, 'clock', { advanceSeconds: 86_400 });
    await withClient(world.bff.db.url, (c) => c.query("UPDATE ais_unattended_reads SET read_at = read_at - interval '24 hours' WHERE consent_id = $1", [consentId]));
    await expect(refresher().refreshUnattended(consentId)).resolves.toEqual({ refreshed: true, nextAllowedAt: expect.any(Date) });
    const after = await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200);
    expect(after.body.warning).toBeUndefined();
    // (The bank's day also expired our access token: one 401, one token refresh, one retry.) Never a 429.
    expect((await aisReads(world.sandbox.httpUrl, bankId)).filter((r) => r.status === 429)).toEqual([]);
  });

  it('marks the budget spent on a bank 429 (for Retry-After at least), serves storage with a warning, and stops asking', async () => {
    const consentId = await validConsent(world, alice);
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200); // a stored copy exists
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'accounts', force429: true, retryAfterSeconds: 600, times: 1 });
    const limited = await refresher().refreshUnattended(consentId);
    expect(limited).toEqual({ refreshed: false, reason: 'rate_limited', nextAllowedAt: expect.any(Date) });
    expect(limited.nextAllowedAt!.getTime()).toBeGreaterThanOrEqual(Date.now() + 590_000);
    const count = (await aisReads(world.sandbox.httpUrl, bankId)).length;
    // No retry within the window: nothing reaches the bank.
    await expect(refresher().refreshUnattended(consentId)).resolves.toMatchObject({ refreshed: false, reason: 'rate_limited' });
    expect((await aisReads(world.sandbox.httpUrl, bankId)).length).toBe(count);
    const stored = await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200);
    expect(stored.body).toMatchObject({ source: 'storage', warning: { code: 'rate_limited', nextRefreshAt: limited.nextAllowedAt!.toISOString() } });
    // The PSU in front of the app can still read now.
    await api().get(`/api/v1/consents/${consentId}/accounts?refresh=true`).set(auth(alice.token)).expect(200);
  });

  it('without Retry-After, a 429 blocks until our 24 h window rolls', async () => {
    const consentId = await validConsent(world, alice);
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'accounts', force429: true, times: 1 });
    const limited = await refresher().refreshUnattended(consentId);
    expect(limited).toMatchObject({ refreshed: false, reason: 'rate_limited' });
    expect(limited.nextAllowedAt!.getTime()).toBeGreaterThan(Date.now() + DAY_MS - 60_000);
    expect(await ledger(consentId)).toBe(1);
  });

  it('never retries an unattended read: a 503 spends one unit and reaches the bank once', async () => {
    const consentId = await validConsent(world, alice);
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'accounts', errorRate: 1, errorStatus: 503, times: 3 });
    await expect(refresher().refreshUnattended(consentId)).rejects.toMatchObject({ name: 'BankError', kind: 'transient', aspspId: 'flowe' });
    expect((await aisReads(world.sandbox.httpUrl, bankId)).filter((r) => r.route === 'accounts')).toHaveLength(1);
    expect(await ledger(consentId)).toBe(1);
    await admin(world.sandbox.httpUrl, 'faults', undefined, 'DELETE');
  });

  it('gives the unit back when no request reached the bank (the token could not be refreshed)', async () => {
    const consentId = await validConsent(world, alice);
    await withClient(world.bff.db.url, (c) => c.query("UPDATE connections SET access_token_expires_at = now() - interval '1 minute' WHERE id = $1", [alice.connectionId]));
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'token', errorRate: 1, errorStatus: 503 });
    try {
      await expect(refresher().refreshUnattended(consentId)).rejects.toMatchObject({ name: 'BankError', aspspId: 'flowe', kind: expect.stringMatching(/^(transient|unavailable)$/) });
      expect(await ledger(consentId)).toBe(0);
    } finally {
      await admin(world.sandbox.httpUrl, 'faults', undefined, 'DELETE');
    }
    await expect(refresher().refreshUnattended(consentId)).resolves.toEqual({ refreshed: true, nextAllowedAt: expect.any(Date) });
  });

  it('does nothing for a consent that is not valid (no unit, no bank call)', async () => {
    const consent = await createConsent(world.bff.url, alice);
    await expect(refresher().refreshUnattended(consent.id)).resolves.toEqual({ refreshed: false, reason: 'not_valid' });
    expect(await ledger(consent.id)).toBe(0);
    await expect(refresher().refreshUnattended('6f1c1f0e-9d7a-4a51-8d47-3b1b4c1d2e3f')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('settles the consent when the bank refused it during an unattended refresh', async () => {
    const consentId = await validConsent(world, alice);
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    await fetch(`${world.sandbox.httpUrl}/admin/consents/${bankId}/revoke`, { method: 'POST' });
    await expect(refresher().refreshUnattended(consentId)).resolves.toEqual({ refreshed: false, reason: 'not_valid' });
    const view = await api().get(`/api/v1/consents/${consentId}`).set(auth(alice.token)).expect(200);
    expect(view.body).toMatchObject({ status: 'revokedByPsu', reconsentRequired: true });
  });
});

describe('AIS budget: two replicas refreshing at once never overspend', () => {
  let world: AisWorld;
  afterAll(() => world.close());

  it('grants exactly frequencyPerDay refreshes among 12 concurrent calls on two apps sharing one database', async () => {
    world = await startAisWorld();
    const alice = await connect(world.bff.url, 'alice', 'connectpay');
    const consentId = await validConsent(world, alice, { frequencyPerDay: 3 });
    const bankId = await bankConsentIdOf(world.bff.db, consentId);
    const replica = await startTestBff(aisEnv(world.sandbox), { db: world.bff.db });
    try {
      const apps = [world.bff, replica].map((b) => b.app.get(AisRefreshService));
      const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => apps[i % 2]!.refreshUnattended(consentId)));
      expect(outcomes.filter((o) => o.refreshed)).toHaveLength(3);
      expect(outcomes.filter((o) => !o.refreshed).every((o) => o.reason === 'budget_spent')).toBe(true);
      const reads = await aisReads(world.sandbox.httpUrl, bankId);
      expect(reads.filter((r) => r.route === 'accounts')).toHaveLength(3);
      expect(reads.every((r) => r.status === 200 && !r.psuIpPresent)).toBe(true);
    } finally {
      await replica.close();
    }
  });
});
