import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { BankTransaction } from '../../src/aspsp/berlin-group/ais.js';
import { addDays, utcDate } from '../../src/aspsp/berlin-group/dates.js';
import { runMigrations } from '../../src/database/migrate.js';
import { typeormOptions } from '../../src/database/typeorm-options.js';
import { AccountStore, transactionKey } from '../../src/modules/ais/account.store.js';
import { AisConsent } from '../../src/modules/ais/consent.entity.js';
import { Connection } from '../../src/modules/connections/connection.entity.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const IBAN = 'IT16N3677201600000000410001';
const today = utcDate();
const range = { dateFrom: addDays(today, -90), dateTo: today, bookingStatus: 'both' as const };

function tx(over: Partial<BankTransaction>): BankTransaction {
  return {
    bookingStatus: 'booked',
    bookingDate: addDays(today, -3),
    valueDate: addDays(today, -3),
    amount: '-4.50',
    currency: 'EUR',
    creditorName: 'Bar Roma',
    remittanceInformationUnstructured: 'Coffee',
    ...over,
  };
}

/** The store on a real PostgreSQL with the real migrations, built with `new`. */
describe('AIS store: idempotent upserts keyed for re-consent', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let store: AccountStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    await runMigrations(db.url);
    ds = await new DataSource(typeormOptions(db.url, 4, [AisConsent, Connection])).initialize();
    store = new AccountStore(ds);
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  async function consent(userId = 'alice'): Promise<AisConsent> {
    const [connection] = await ds.query(
      "INSERT INTO connections (user_id, aspsp_id, services, status, return_url) VALUES ($1, 'flowe', '{ais}', 'active', 'http://localhost:3000/') RETURNING id",
      [userId],
    );
    return ds.getRepository(AisConsent).save({
      userId,
      connectionId: connection.id,
      aspspId: 'flowe',
      bankConsentId: randomUUID(),
      status: 'valid',
      statusReason: null,
      validUntil: addDays(today, 90),
      frequencyPerDay: 4,
      recurringIndicator: true,
      budgetBlockedUntil: null,
      accountsFetchedAt: null,
      statusChangedAt: new Date(),
    });
  }

  const count = async (accountId: string) =>
    (await ds.query('SELECT count(*)::int AS n FROM ais_transactions WHERE account_id = $1', [accountId]))[0].n as number;

  it('maps a re-consent with new resourceIds to the same account by IBAN, per user', async () => {
    const first = await consent();
    await store.saveAccounts(first, [{ resourceId: 'R-OLD', iban: IBAN, currency: 'EUR' }]);
    const second = await consent();
    await store.saveAccounts(second, [{ resourceId: 'R-NEW', iban: IBAN, currency: 'EUR', name: 'Conto' }]);
    const [a] = await store.linkedAccounts(first.id);
    const [b] = await store.linkedAccounts(second.id);
    expect(b!.account.id).toBe(a!.account.id);
    expect([a!.resourceId, b!.resourceId]).toEqual(['R-OLD', 'R-NEW']);
    // Another user's consent on the same IBAN is another user's account.
    const bob = await consent('bob');
    await store.saveAccounts(bob, [{ resourceId: 'R-NEW', iban: IBAN, currency: 'EUR' }]);
    expect((await store.linkedAccounts(bob.id))[0]!.account.id).not.toBe(a!.account.id);
    await expect(store.linkedAccount(bob.id, a!.account.id)).resolves.toBeUndefined();
  });

  it('keeps the currency sub-accounts of one multicurrency IBAN apart', async () => {
    const c = await consent();
    await store.saveAccounts(c, [
      { resourceId: 'M-EUR', iban: 'LT443250010000000101', currency: 'EUR' },
      { resourceId: 'M-USD', iban: 'LT443250010000000101', currency: 'USD' },
    ]);
    const links = await store.linkedAccounts(c.id);
    expect(links.map((l) => [l.resourceId, l.account.currency])).toEqual([
      ['M-EUR', 'EUR'],
      ['M-USD', 'USD'],
    ]);
    expect(new Set(links.map((l) => l.account.id)).size).toBe(2);
  });

  it('rewrites the links in one statement: a dropped account unlinked, a resourceId moved to another account, the bank’s order; answers with what is stored', async () => {
    const c = await consent();
    const [ibanA, ibanB, ibanC] = ['IT00A0000000000000000000001', 'IT00A0000000000000000000002', 'IT00A0000000000000000000003'];
    const first = await store.saveAccounts(c, [
      { resourceId: 'R1', iban: ibanA, currency: 'EUR' },
      { resourceId: 'R2', iban: ibanB, currency: 'EUR' },
      { resourceId: 'R3', iban: ibanC, currency: 'EUR' },
    ]);
    const id = new Map(first.links.map((l) => [l.account.iban, l.account.id]));
    expect(first.links.map((l) => l.resourceId)).toEqual(['R1', 'R2', 'R3']);
    // C is gone, B now answers to A's old resourceId (deleted before it is inserted again: UNIQUE (consent_id, resource_id)), A has a new one.
    const second = await store.saveAccounts(c, [
      { resourceId: 'R1', iban: ibanB, currency: 'EUR', name: 'Conto B' },
      { resourceId: 'R9', iban: ibanA, currency: 'EUR' },
    ]);
    expect(second.links.map((l) => [l.resourceId, l.account.id, l.account.name])).toEqual([
      ['R1', id.get(ibanB), 'Conto B'],
      ['R9', id.get(ibanA), null],
    ]);
    expect(second.consent.accountsFetchedAt).toEqual(expect.any(Date));
    expect(await store.linkedAccounts(c.id)).toEqual(second.links);
    expect((await store.storedAccounts(c.userId, c.id))!.links).toEqual(second.links);
  });

  it('only stamps the read when the bank lists exactly what is stored, unless the consent was written since it was read', async () => {
    const c = await consent();
    const list = [{ resourceId: 'R1', iban: 'IT00B0000000000000000000001', currency: 'EUR', name: 'Conto' }];
    await store.saveAccounts(c, list);
    const stored = (await store.storedAccounts(c.userId, c.id))!;
    const accountId = stored.links[0]!.account.id;
    const accountVersion = async () => (await ds.query('SELECT xmin::text AS v FROM ais_accounts WHERE id = $1', [accountId]))[0].v as string;
    const untouched = await accountVersion();
    const stamped = await store.saveAccounts(c, list, stored);
    expect(stamped.links).toEqual(stored.links);
    expect(stamped.version).not.toBe(stored.version);
    expect(await accountVersion()).toBe(untouched);

    // Another save changes the list after `stored` was read: the unchanged list is written in full, not just stamped.
    await store.saveAccounts(c, [{ resourceId: 'R2', iban: 'IT00B0000000000000000000002', currency: 'EUR' }]);
    const written = await store.saveAccounts(c, list, stored);
    expect(written.links.map((l) => [l.resourceId, l.account.id])).toEqual([['R1', accountId]]);
    expect(await store.linkedAccounts(c.id)).toEqual(written.links);
  });

  it('writes an account or a resourceId the bank lists twice once, as its last listing says', async () => {
    const c = await consent();
    const iban = 'IT00C0000000000000000000001';
    const twice = await store.saveAccounts(c, [
      { resourceId: 'R1', iban, currency: 'EUR', name: 'old' },
      { resourceId: 'R2', iban, currency: 'EUR', name: 'new' },
    ]);
    expect(twice.links.map((l) => [l.resourceId, l.account.name])).toEqual([['R2', 'new']]);
    const moved = await store.saveAccounts(c, [
      { resourceId: 'R2', iban, currency: 'EUR' },
      { resourceId: 'R2', iban: 'IT00C0000000000000000000002', currency: 'EUR' },
    ]);
    expect(moved.links.map((l) => [l.resourceId, l.account.iban])).toEqual([['R2', 'IT00C0000000000000000000002']]);
    expect(await store.linkedAccounts(c.id)).toEqual(moved.links);
  });

  it('reads the consent’s connection with its accounts in the shape of the Connection entity', async () => {
    const c = await consent();
    await ds.query(
      `UPDATE connections SET failure_reason = 'x', access_token_enc = 'a', refresh_token_enc = 'r', access_token_expires_at = now(), granted_scope = 's',
         first_login_at = now(), reauth_by = now() + interval '90 days', tokens_refreshed_at = now(), expiry_warned_at = now(), external_reference = 'ref'
       WHERE id = $1`,
      [c.connectionId],
    );
    const read = await store.storedAccounts(c.userId, c.id, { withConnection: true });
    expect(read!.connection).toEqual(await ds.getRepository(Connection).findOneByOrFail({ id: c.connectionId }));
    expect((await store.storedAccounts(c.userId, c.id))!.connection).toBeUndefined();
    await expect(store.storedAccounts('mallory', c.id, { withConnection: true })).resolves.toBeUndefined();
  });

  it('upserts: a re-read never duplicates, pending → booked under the same id updates the row, vanished pending entries go', async () => {
    const c = await consent();
    await store.saveAccounts(c, [{ resourceId: 'R1', iban: IBAN, currency: 'EUR' }]);
    const [link] = await store.linkedAccounts(c.id);
    const accountId = link!.account.id;
    const first = [
      tx({ transactionId: 'T1' }),
      tx({ transactionId: 'T2', bookingStatus: 'pending', bookingDate: undefined, valueDate: today, amount: '-20.00' }),
      tx({ entryReference: 'E3', amount: '100.00' }),
      // two identical coffees without any id: two rows, by fingerprint and occurrence
      tx({}),
      tx({}),
      // a pending card authorisation without ids that the bank later books under a new id
      tx({ bookingStatus: 'pending', bookingDate: undefined, valueDate: today, amount: '-7.00', creditorName: 'Shop' }),
    ];
    await store.saveTransactions(accountId, first, range);
    expect(await count(accountId)).toBe(6);
    await store.saveTransactions(accountId, first, range);
    expect(await count(accountId)).toBe(6);
    const before = await store.transactions(accountId, range, { limit: 100, offset: 0 });
    const t2Id = before.items.find((t) => t.transactionId === 'T2')!.id;

    const second = [
      first[0]!,
      tx({ transactionId: 'T2', bookingStatus: 'booked', bookingDate: today, valueDate: today, amount: '-20.00' }),
      first[2]!,
      first[3]!,
      first[4]!,
      tx({ transactionId: 'T9', bookingDate: today, valueDate: today, amount: '-7.00', creditorName: 'Shop' }),
    ];
    await store.saveTransactions(accountId, second, range);
    const after = await store.transactions(accountId, range, { limit: 100, offset: 0 });
    expect(after.total).toBe(6);
    expect(after.items.find((t) => t.transactionId === 'T2')).toMatchObject({ id: t2Id, bookingStatus: 'booked', bookingDate: today });
    expect(after.items.filter((t) => t.bookingStatus === 'pending')).toEqual([]);
    expect(after.items.filter((t) => t.remittanceInformation === 'Coffee' && !t.transactionId && !t.entryReference)).toHaveLength(2);
  });

  it('keeps amounts as exact decimal strings and refuses malformed ones at the database too', async () => {
    const c = await consent();
    await store.saveAccounts(c, [{ resourceId: 'R1', iban: 'IT45P3677201600000000420002', currency: 'EUR' }]);
    const accountId = (await store.linkedAccounts(c.id))[0]!.account.id;
    await store.saveTransactions(accountId, [tx({ transactionId: 'X1', amount: '12345678901234.567' }), tx({ transactionId: 'X2', amount: '0.1' })], range);
    const { items } = await store.transactions(accountId, range, { limit: 10, offset: 0 });
    expect(items.map((t) => t.amount).sort()).toEqual(['0.1', '12345678901234.567']);
    await expect(store.saveTransactions(accountId, [tx({ transactionId: 'X3', amount: '1e5' })], range)).rejects.toThrow();
  });

  it('keys transactions by transactionId, then entryReference, then a stable fingerprint', () => {
    expect(transactionKey(tx({ transactionId: 'T1', entryReference: 'E1' }))).toBe('id:T1');
    expect(transactionKey(tx({ entryReference: 'E1' }))).toBe('ref:E1');
    expect(transactionKey(tx({}))).toBe(transactionKey(tx({})));
    expect(transactionKey(tx({}))).not.toBe(transactionKey(tx({ amount: '-4.51' })));
  });
});
