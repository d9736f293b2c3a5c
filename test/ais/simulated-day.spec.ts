import type { BudgetCounting } from '../../src/config/banks.config.js';
import { PollWorker } from '../../src/modules/scheduler/poll-worker.service.js';
import { nextStatusWindow } from '../support/bank-world.js';
import { withClient } from '../support/database.js';
import { until } from '../scheduler/support.js';
import {
  bankConsentIdOf,
  connect,
  createConsent,
  decide,
  passTime,
  pollItems,
  startAisWorld,
  unattendedUses,
  type AisWorld,
  type LoggedBankRequest,
} from './support.js';

const STEP_SECONDS = 30 * 60;
const HOURS = 48;
const DAY_MS = 86_400_000;

/** The most uses in any rolling 24 h window of the bank's own clock, counted as `per` says (one key per use). */
function busiestDay(uses: LoggedBankRequest[], key: (use: LoggedBankRequest) => string): number {
  let most = 0;
  for (const start of uses) {
    const from = Date.parse(start.sandboxTime);
    const inWindow = uses.filter((u) => Date.parse(u.sandboxTime) >= from && Date.parse(u.sandboxTime) < from + DAY_MS);
    const counts = new Map<string, number>();
    for (const u of inWindow) counts.set(key(u), (counts.get(key(u)) ?? 0) + 1);
    most = Math.max(most, ...counts.values());
  }
  return most;
}

/**
 * Two simulated days of background refreshes, driven by the real scheduler: carol's Flowe consent
 * (frequencyPerDay 4, three accounts) is approved, then the clocks of both sides move on half an
 * hour at a time and the poll worker runs whatever is due. Nothing here reads attended: every
 * request the bank sees is an unattended use of the consent.
 */
async function simulateTwoDays(world: AisWorld): Promise<{ uses: LoggedBankRequest[]; consentId: string }> {
  const worker = world.bff.app.get(PollWorker);
  const runDue = async () => {
    await worker.tick();
    await until('the polls to finish', () => worker.busy === 0, 10_000);
  };
  const carol = await connect(world.bff.url, 'carol', 'flowe');
  const consent = await createConsent(world.bff.url, carol, { frequencyPerDay: 4 });
  const bankId = await bankConsentIdOf(world.bff.db, consent.id);
  await runDue();
  await decide(world.sandbox.httpUrl, 'consent', bankId, 'approve');
  await passTime(world, 2);
  await nextStatusWindow(); // the consent's status was asked less than a second ago
  await runDue();
  expect(await pollItems(world.bff.db, consent.id)).toEqual(['ais-refresh']);
  for (let elapsed = 0; elapsed < HOURS * 3600; elapsed += STEP_SECONDS) {
    await runDue();
    await passTime(world, STEP_SECONDS);
  }
  await runDue();
  return { uses: await unattendedUses(world.sandbox.httpUrl, bankId), consentId: consent.id };
}

describe.each<BudgetCounting>(['per_call', 'per_resource'])(
  'a simulated day of background refreshes: the sandbox counts %s, the BFF per call (default)',
  (sandboxCounting) => {
    let world: AisWorld;
    afterAll(() => world.close());

    it('uses the Consent-ID at most frequencyPerDay times in any 24 h, never gets a 429, and refreshes all three accounts each day', async () => {
      world = await startAisWorld({ sandbox: { modes: { flowe: { budgetCounting: sandboxCounting } } } });
      const { uses } = await simulateTwoDays(world);
      expect(uses.filter((u) => u.status !== 200)).toEqual([]);
      expect(busiestDay(uses, () => 'consent')).toBeLessThanOrEqual(4);
      // One refresh a day fits: the list with balances, then each account's transactions since the last refresh (one page).
      const days = [
        uses.filter((u) => Date.parse(u.sandboxTime) < Date.parse(uses[0]!.sandboxTime) + DAY_MS),
        uses.filter((u) => Date.parse(u.sandboxTime) >= Date.parse(uses[0]!.sandboxTime) + DAY_MS),
      ];
      for (const day of days) {
        expect(day.map((u) => u.route)).toEqual(['accounts', 'transactions', 'transactions', 'transactions']);
        expect(new Set(day.filter((u) => u.route === 'transactions').map((u) => u.resourceId)).size).toBe(3);
      }
      const stats = (await (await fetch(`${world.sandbox.httpUrl}/admin/stats`)).json()) as { stats: Record<string, Record<string, Record<string, number>>> };
      for (const route of Object.values(stats.stats.flowe ?? {})) expect(route['429']).toBeUndefined();
    });
  },
);

describe('a simulated day with the BFF and the sandbox both counting per resource', () => {
  let world: AisWorld;
  afterAll(() => world.close());

  it('refreshes every resource up to frequencyPerDay times a day, spread over the day, and never gets a 429', async () => {
    world = await startAisWorld({ sandbox: { modes: { flowe: { budgetCounting: 'per_resource' } } }, env: { FLOWE_AIS_BUDGET_COUNTING: 'per_resource' } });
    const { uses, consentId } = await simulateTwoDays(world);
    // The bank enforces its limit per resource: any overuse would have been a 429.
    expect(uses.filter((u) => u.status !== 200)).toEqual([]);
    const lists = uses.filter((u) => u.route === 'accounts');
    expect(busiestDay(lists, () => 'accounts')).toBe(4);
    // Spread: no two reads of the account list less than 6 h apart (24 h / 4).
    const times = lists.map((u) => Date.parse(u.sandboxTime));
    expect(times.length).toBeGreaterThanOrEqual(7);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(6 * 3_600_000);
    // Each account's transactions were read as often (a later page continues a read: the ledger records it uncounted).
    const reads = await withClient(
      world.bff.db.url,
      async (c) =>
        (
          await c.query(
            "SELECT resource, count(*) FILTER (WHERE page = 1)::int AS reads FROM ais_unattended_reads WHERE consent_id = $1 AND resource LIKE '%/transactions' GROUP BY resource",
            [consentId],
          )
        ).rows as { reads: number }[],
    );
    expect(reads).toHaveLength(3);
    expect(reads.every((r) => r.reads === times.length)).toBe(true);
  });
});
