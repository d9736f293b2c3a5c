import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { BankAccount, BankBalance, BankTransaction, TransactionRange } from '../../aspsp/berlin-group/ais.js';
import { utcDate } from '../../aspsp/berlin-group/dates.js';
import type { Connection } from '../connections/connection.entity.js';
import { connectionColumns, connectionFromJson } from '../connections/connections.store.js';
import type { ResourceUsage } from './budget.js';
import type { AisConsent } from './consent.entity.js';
import { ConsentStore } from './consent.store.js';

/**
 * A bank account of a user, as read through any of their consents. Keyed by (user, bank, IBAN)
 * rather than the bank's resourceId, which may change with every new consent.
 */
export interface StoredAccount {
  id: string;
  userId: string;
  aspspId: string;
  /** `iban:<IBAN>:<currency>` when the bank gives an IBAN (normalised), else `ref:<resourceId>`. */
  accountKey: string;
  iban: string | null;
  bban: string | null;
  maskedPan: string | null;
  currency: string;
  name: string | null;
  product: string | null;
  cashAccountType: string | null;
  ownerName: string | null;
  bic: string | null;
  balancesFetchedAt: Date | null;
  transactionsFetchedAt: Date | null;
  /** The earliest date the stored transactions cover (YYYY-MM-DD); older ranges must be read from the bank. */
  transactionsFrom: string | null;
}

/** An account as a consent reaches it: our stable id plus the bank's resourceId under that consent. */
export interface LinkedAccount {
  account: StoredAccount;
  resourceId: string;
}

const ACCOUNT_COLUMNS = `a.id::text, a.user_id AS "userId", a.aspsp_id AS "aspspId", a.account_key AS "accountKey", a.iban, a.bban, a.masked_pan AS "maskedPan",
  a.currency, a.name, a.product, a.cash_account_type AS "cashAccountType", a.owner_name AS "ownerName", a.bic,
  a.balances_fetched_at AS "balancesFetchedAt", a.transactions_fetched_at AS "transactionsFetchedAt", a.transactions_from::text AS "transactionsFrom"`;

export interface StoredBalance {
  balanceType: string;
  amount: string;
  currency: string;
  referenceDate: string | null;
  lastChangeDateTime: Date | null;
}

export interface StoredTransaction {
  id: string;
  transactionId: string | null;
  entryReference: string | null;
  bookingStatus: 'booked' | 'pending';
  bookingDate: string | null;
  valueDate: string | null;
  amount: string;
  currency: string;
  creditorName: string | null;
  creditorIban: string | null;
  debtorName: string | null;
  debtorIban: string | null;
  remittanceInformation: string | null;
}

/** What a user's stored statement of one account says about one end-to-end id. */
export interface StatementSearch {
  /** When the account's transactions were last read from the bank; null: never (or no such account stored). */
  transactionsFetchedAt: Date | null;
  /** Whether the user has the account stored at all (some consent reached it). */
  accountKnown: boolean;
  /** The movements carrying the end-to-end id, oldest first. */
  entries: { bookingStatus: 'booked' | 'pending'; amount: string; currency: string; date: string | null }[];
}

/**
 * What an accounts answer needs, read in one statement: the consent (only if the user owns it), the
 * database's now, the accounts it reaches in the bank's order (with the bank's resourceIds), its
 * budget ledger's window and its next planned background refresh.
 */
export interface StoredAccountsRead {
  consent: AisConsent;
  now: Date;
  links: LinkedAccount[];
  windows: ResourceUsage[];
  nextRefreshAt: Date | null;
  /** The consent row's version (its `xmin`): every write to the row changes it, saveAccounts' stamp included. */
  version: string;
  /** The consent's connection, when asked for (what a bank call needs). */
  connection?: Connection;
}

type JsonAccount = Omit<StoredAccount, 'balancesFetchedAt' | 'transactionsFetchedAt'> & {
  balancesFetchedAt: string | null;
  transactionsFetchedAt: string | null;
  resourceId: string;
  position: number;
};
type JsonUsage = Omit<ResourceUsage, 'oldestCallAt' | 'oldestReadAt'> & { oldestCallAt: string; oldestReadAt: string | null };
type ReadRow = AisConsent & {
  version: string;
  now: Date;
  nextRefreshAt: Date | null;
  accounts: JsonAccount[];
  windows: JsonUsage[];
  connection?: Record<string, unknown> | null;
};

const CONSENT_COLUMNS = `c.id::text, c.user_id AS "userId", c.connection_id::text AS "connectionId", c.aspsp_id AS "aspspId", c.bank_consent_id AS "bankConsentId",
  c.status, c.status_reason AS "statusReason", c.valid_until::text AS "validUntil", c.frequency_per_day AS "frequencyPerDay",
  c.recurring_indicator AS "recurringIndicator", c.budget_blocked_until AS "budgetBlockedUntil", c.accounts_fetched_at AS "accountsFetchedAt",
  c.status_changed_at AS "statusChangedAt", c.expiry_warned_at AS "expiryWarnedAt", c.created_at AS "createdAt", c.updated_at AS "updatedAt"`;

/**
 * Besides the consent (`c`) and its accounts, every accounts answer shows the database's now, the
 * next planned background refresh and the budget ledger's window. The ledger and the poll queue are
 * only read here: their owners (ConsentStore, PollQueue) write them.
 */
const READ_EXTRAS = `now() AS now,
  (SELECT p.next_poll_at FROM poll_items p WHERE p.kind = 'ais-refresh' AND p.resource_id = c.id) AS "nextRefreshAt",
  COALESCE((SELECT json_agg(w) FROM (
     SELECT resource, count(*)::int AS calls, (count(*) FILTER (WHERE page = 1))::int AS reads,
            min(read_at) AS "oldestCallAt", min(read_at) FILTER (WHERE page = 1) AS "oldestReadAt"
       FROM ais_unattended_reads WHERE consent_id = c.id AND read_at > now() - interval '24 hours'
      GROUP BY resource) w), '[]') AS windows`;

/** The accounts (`a`) and their links (`l`: resource_id, position) that `from` yields, as one JSON array in the bank's order. */
const accountsJson = (from: string) => `COALESCE((SELECT json_agg(x ORDER BY x.position) FROM (
     SELECT ${ACCOUNT_COLUMNS}, l.resource_id AS "resourceId", l.position FROM ${from}) x), '[]') AS accounts`;

const STORED_LINKS = 'ais_consent_accounts l JOIN ais_accounts a ON a.id = l.account_id WHERE l.consent_id = c.id';

/** The `ais_accounts` columns an account list from the bank writes, as `accountRows` names them. */
const WRITTEN = ['iban', 'bban', 'maskedPan', 'currency', 'name', 'product', 'cashAccountType', 'ownerName', 'bic'] as const;

/** One account of the bank's list as it is written: its key, its resourceId under the consent, its place in the list. */
type AccountRow = { accountKey: string; resourceId: string; position: number } & Record<(typeof WRITTEN)[number], string | null>;

/** Rows per INSERT: 15 parameters each stays far below PostgreSQL's 65,535. */
const CHUNK = 1000;

/**
 * The owner of `ais_accounts`, `ais_consent_accounts`, `ais_balances` and `ais_transactions`: what
 * the banks sent, kept in PostgreSQL so the frontend is answered without spending the bank's
 * budget. Writes are upserts: reading the same data twice, from two replicas at once, or through a
 * new consent never duplicates anything.
 */
@Injectable()
export class AccountStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Upserts the accounts (by IBAN), makes them exactly the accounts this consent reaches and stamps
   * the consent's `accountsFetchedAt`, in one statement; answers with what it wrote (as
   * `storedAccounts` would read it). When `stored` (read before the bank was asked) already holds
   * exactly this list and the consent row has not changed since, only the stamp is written.
   */
  async saveAccounts(consent: AisConsent, accounts: BankAccount[], stored?: StoredAccountsRead): Promise<StoredAccountsRead> {
    const rows = accountRows(accounts);
    if (stored && sameAccounts(stored.links, rows)) {
      // Guarded by the row's version: a save that ran meanwhile may have changed the links, and the full write is then the safe one.
      const [row]: ReadRow[] = await this.dataSource.query(
        `WITH c AS (
           ${ConsentStore.stampAccountsFetched('id = $1 AND xmin = $2::text::xid')}
         )
         SELECT ${CONSENT_COLUMNS}, c.version, ${READ_EXTRAS}, ${accountsJson(STORED_LINKS)} FROM c`,
        [consent.id, stored.version],
      );
      if (row) return toRead(row);
    }
    /*
     * Data-modifying CTEs all see the statement's starting snapshot, so the answer is built from what
     * they return (`saved`, `l`), never read back. `linked` waits for `unlinked` (it reads its count):
     * a resourceId that moved to another account is deleted before it is inserted again. Rows are
     * locked in one order (accounts by key, then links, then the consent, which `c` stamps after
     * `linked`), so two saves of overlapping lists cannot deadlock.
     */
    const [row]: ReadRow[] = await this.dataSource.query(
      `WITH bank AS (
         SELECT * FROM jsonb_to_recordset($4::jsonb) AS b("accountKey" text, "resourceId" text, position int, iban text, bban text,
           "maskedPan" text, currency text, name text, product text, "cashAccountType" text, "ownerName" text, bic text)
       ), saved AS (
         INSERT INTO ais_accounts (user_id, aspsp_id, account_key, iban, bban, masked_pan, currency, name, product, cash_account_type, owner_name, bic)
         SELECT $2, $3, "accountKey", iban, bban, "maskedPan", currency, name, product, "cashAccountType", "ownerName", bic FROM bank ORDER BY "accountKey"
         ON CONFLICT (user_id, aspsp_id, account_key) DO UPDATE SET
           iban = EXCLUDED.iban, bban = EXCLUDED.bban, masked_pan = EXCLUDED.masked_pan, currency = EXCLUDED.currency, name = EXCLUDED.name,
           product = EXCLUDED.product, cash_account_type = EXCLUDED.cash_account_type, owner_name = EXCLUDED.owner_name, bic = EXCLUDED.bic, updated_at = now()
         RETURNING *
       ), l AS (
         SELECT s.id AS account_id, b."resourceId" AS resource_id, b.position FROM saved s JOIN bank b ON b."accountKey" = s.account_key
       ), unlinked AS (
         DELETE FROM ais_consent_accounts o WHERE o.consent_id = $1
            AND NOT EXISTS (SELECT 1 FROM l WHERE l.account_id = o.account_id AND l.resource_id = o.resource_id)
         RETURNING 1
       ), linked AS (
         INSERT INTO ais_consent_accounts (consent_id, account_id, resource_id, position)
         SELECT $1, account_id, resource_id, position FROM l WHERE (SELECT count(*) FROM unlinked) >= 0
         ON CONFLICT (consent_id, account_id) DO UPDATE SET position = EXCLUDED.position WHERE ais_consent_accounts.position <> EXCLUDED.position
         RETURNING 1
       ), c AS (
         ${ConsentStore.stampAccountsFetched('id = $1 AND (SELECT count(*) FROM linked) >= 0')}
       )
       SELECT ${CONSENT_COLUMNS}, c.version, ${READ_EXTRAS}, ${accountsJson('l JOIN saved a ON a.id = l.account_id')} FROM c`,
      [consent.id, consent.userId, consent.aspspId, JSON.stringify(rows)],
    );
    if (!row) throw new Error(`consent ${consent.id} vanished while its accounts were saved`);
    return toRead(row);
  }

  /** Replaces the account's balances with the bank's latest. */
  async saveBalances(accountId: string, balances: BankBalance[]): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      for (const [position, b] of balances.entries()) {
        await m.query(
          `INSERT INTO ais_balances (account_id, position, balance_type, amount, currency, reference_date, last_change_date_time) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (account_id, position) DO UPDATE SET balance_type = EXCLUDED.balance_type, amount = EXCLUDED.amount, currency = EXCLUDED.currency,
             reference_date = EXCLUDED.reference_date, last_change_date_time = EXCLUDED.last_change_date_time`,
          [accountId, position, b.balanceType, b.amount, b.currency, b.referenceDate ?? null, b.lastChangeDateTime ?? null],
        );
      }
      await m.query('DELETE FROM ais_balances WHERE account_id = $1 AND position >= $2', [accountId, balances.length]);
      await m.query('UPDATE ais_accounts SET balances_fetched_at = now(), updated_at = now() WHERE id = $1', [accountId]);
    });
  }

  /**
   * Upserts every transaction of a complete read of `range` (all pages). A transaction keeps its
   * row when it moves from pending to booked under the same id; pending entries that this read no
   * longer shows (booked under another id, or dropped by the bank) are removed, so nothing is
   * counted twice. `transactionsFrom` records how far back the stored copy is complete.
   */
  async saveTransactions(accountId: string, transactions: BankTransaction[], range: TransactionRange): Promise<void> {
    const keyed = new Map<string, BankTransaction>();
    const occurrences = new Map<string, number>();
    for (const t of transactions) {
      let key = transactionKey(t);
      if (key.startsWith('fp:')) {
        // Two identical movements on one day (two coffees) are two rows: number the repeats.
        const n = (occurrences.get(key) ?? 0) + 1;
        occurrences.set(key, n);
        key = `${key}#${n}`;
      }
      keyed.set(key, t);
    }
    const rows = [...keyed.entries()];
    await this.dataSource.transaction(async (m) => {
      for (let i = 0; i < rows.length; i += CHUNK) await this.upsertTransactions(m, accountId, rows.slice(i, i + CHUNK));
      if (range.bookingStatus !== 'booked') {
        await m.query(
          `DELETE FROM ais_transactions WHERE account_id = $1 AND booking_status = 'pending' AND NOT (tx_key = ANY($2::text[]))
             AND (COALESCE(booking_date, value_date) IS NULL OR COALESCE(booking_date, value_date) BETWEEN $3 AND $4)`,
          [accountId, rows.map(([key]) => key), range.dateFrom, range.dateTo],
        );
      }
      const [account] = await m.query(
        'SELECT transactions_from::text AS "from", transactions_fetched_at AS "fetchedAt" FROM ais_accounts WHERE id = $1 FOR UPDATE',
        [accountId],
      );
      await m.query('UPDATE ais_accounts SET transactions_fetched_at = now(), transactions_from = $2, updated_at = now() WHERE id = $1', [
        accountId,
        range.bookingStatus === 'both' && range.dateTo >= utcDate()
          ? coveredFrom(account?.from ?? null, account?.fetchedAt ?? null, range.dateFrom)
          : (account?.from ?? null),
      ]);
    });
  }

  private async upsertTransactions(m: EntityManager, accountId: string, rows: [string, BankTransaction][]): Promise<void> {
    const params: unknown[] = [];
    const values = rows.map(([key, t]) => {
      const fields = [
        accountId,
        key,
        t.transactionId,
        t.entryReference,
        t.bookingStatus,
        t.bookingDate,
        t.valueDate,
        t.amount,
        t.currency,
        t.creditorName,
        t.creditorIban,
        t.debtorName,
        t.debtorIban,
        t.remittanceInformationUnstructured,
        t.endToEndId,
      ];
      const start = params.length;
      params.push(...fields.map((f) => f ?? null));
      return `(${fields.map((_, j) => `$${start + j + 1}`).join(', ')})`;
    });
    await m.query(
      `INSERT INTO ais_transactions (account_id, tx_key, transaction_id, entry_reference, booking_status, booking_date, value_date, amount, currency,
         creditor_name, creditor_iban, debtor_name, debtor_iban, remittance_information, end_to_end_id)
       VALUES ${values.join(', ')}
       ON CONFLICT (account_id, tx_key) DO UPDATE SET end_to_end_id = EXCLUDED.end_to_end_id,
         transaction_id = EXCLUDED.transaction_id, entry_reference = EXCLUDED.entry_reference, booking_status = EXCLUDED.booking_status,
         booking_date = EXCLUDED.booking_date, value_date = EXCLUDED.value_date, amount = EXCLUDED.amount, currency = EXCLUDED.currency,
         creditor_name = EXCLUDED.creditor_name, creditor_iban = EXCLUDED.creditor_iban, debtor_name = EXCLUDED.debtor_name,
         debtor_iban = EXCLUDED.debtor_iban, remittance_information = EXCLUDED.remittance_information, last_seen_at = now()`,
      params,
    );
  }

  /**
   * The stored movements of a user's account (by bank and IBAN) that carry `endToEndId`: how a
   * payment whose initiation answer was lost is found on the statement. Stored data only: no bank
   * call, no budget spent.
   */
  async searchStatement(userId: string, aspspId: string, iban: string, endToEndId: string): Promise<StatementSearch> {
    const rows: { fetchedAt: Date | null; bookingStatus: 'booked' | 'pending' | null; amount: string | null; currency: string | null; date: string | null }[] =
      await this.dataSource.query(
        `SELECT a.transactions_fetched_at AS "fetchedAt", t.booking_status AS "bookingStatus", t.amount, t.currency,
              COALESCE(t.booking_date, t.value_date)::text AS date
         FROM ais_accounts a LEFT JOIN ais_transactions t ON t.account_id = a.id AND t.end_to_end_id = $4
        WHERE a.user_id = $1 AND a.aspsp_id = $2 AND a.iban = $3
        ORDER BY t.id`,
        [userId, aspspId, iban, endToEndId],
      );
    const fetched = rows.map((r) => r.fetchedAt).filter((d): d is Date => d !== null);
    return {
      accountKnown: rows.length > 0,
      transactionsFetchedAt: fetched.length > 0 ? new Date(Math.max(...fetched.map((d) => d.getTime()))) : null,
      entries: rows
        .filter((r) => r.bookingStatus !== null)
        .map((r) => ({ bookingStatus: r.bookingStatus!, amount: r.amount!, currency: r.currency!, date: r.date })),
    };
  }

  /**
   * The user's consent with everything a stored accounts answer shows, in one round trip and no
   * transaction (a read); undefined when the user has no such consent. `withConnection` adds the
   * consent's connection, for a read that goes on to call the bank.
   */
  async storedAccounts(userId: string, consentId: string, options: { withConnection?: boolean } = {}): Promise<StoredAccountsRead | undefined> {
    const connection = options.withConnection
      ? `, (SELECT row_to_json(k) FROM (SELECT ${connectionColumns('n')} FROM connections n WHERE n.id = c.connection_id) k) AS connection`
      : '';
    const [row]: ReadRow[] = await this.dataSource.query(
      `SELECT ${CONSENT_COLUMNS}, c.xmin::text AS version, ${READ_EXTRAS}, ${accountsJson(STORED_LINKS)}${connection}
         FROM ais_consents c WHERE c.id = $1 AND c.user_id = $2`,
      [consentId, userId],
    );
    return row ? toRead(row) : undefined;
  }

  /** The accounts a consent reaches, in the bank's order. */
  async linkedAccounts(consentId: string): Promise<LinkedAccount[]> {
    const rows: (StoredAccount & { resourceId: string })[] = await this.dataSource.query(
      `SELECT ${ACCOUNT_COLUMNS}, l.resource_id AS "resourceId"
         FROM ais_consent_accounts l JOIN ais_accounts a ON a.id = l.account_id
        WHERE l.consent_id = $1 ORDER BY l.position`,
      [consentId],
    );
    return rows.map(({ resourceId, ...account }) => ({ account, resourceId }));
  }

  /** One account of a consent; undefined when the consent does not reach it (the caller answers 404). */
  async linkedAccount(consentId: string, accountId: string): Promise<LinkedAccount | undefined> {
    const [row]: (StoredAccount & { resourceId: string })[] = await this.dataSource.query(
      `SELECT ${ACCOUNT_COLUMNS}, l.resource_id AS "resourceId"
         FROM ais_consent_accounts l JOIN ais_accounts a ON a.id = l.account_id
        WHERE l.consent_id = $1 AND l.account_id = $2`,
      [consentId, accountId],
    );
    if (!row) return undefined;
    const { resourceId, ...account } = row;
    return { account, resourceId };
  }

  /** One stored account by our id (what `balancesFetchedAt` and the like say now). */
  async account(accountId: string): Promise<StoredAccount | undefined> {
    const [row]: StoredAccount[] = await this.dataSource.query(`SELECT ${ACCOUNT_COLUMNS} FROM ais_accounts a WHERE a.id = $1`, [accountId]);
    return row;
  }

  async balances(accountId: string): Promise<StoredBalance[]> {
    return this.dataSource.query(
      `SELECT balance_type AS "balanceType", amount, currency, reference_date::text AS "referenceDate", last_change_date_time AS "lastChangeDateTime"
         FROM ais_balances WHERE account_id = $1 ORDER BY position`,
      [accountId],
    );
  }

  /** Stored transactions in a range, pending first, then newest first; `total` counts the whole range. */
  async transactions(
    accountId: string,
    range: TransactionRange,
    page: { limit: number; offset: number },
  ): Promise<{ total: number; items: StoredTransaction[] }> {
    const where = `account_id = $1 AND ($2 = 'both' OR booking_status = $2)
      AND (COALESCE(booking_date, value_date) IS NULL OR COALESCE(booking_date, value_date) BETWEEN $3 AND $4)`;
    const args = [accountId, range.bookingStatus, range.dateFrom, range.dateTo];
    const [{ total }] = await this.dataSource.query(`SELECT count(*)::int AS total FROM ais_transactions WHERE ${where}`, args);
    const items = await this.dataSource.query(
      `SELECT id::text, transaction_id AS "transactionId", entry_reference AS "entryReference", booking_status AS "bookingStatus",
              booking_date::text AS "bookingDate", value_date::text AS "valueDate", amount, currency, creditor_name AS "creditorName",
              creditor_iban AS "creditorIban", debtor_name AS "debtorName", debtor_iban AS "debtorIban", remittance_information AS "remittanceInformation"
         FROM ais_transactions WHERE ${where}
        ORDER BY (booking_status = 'pending') DESC, COALESCE(booking_date, value_date) DESC NULLS FIRST, id DESC
        LIMIT $5 OFFSET $6`,
      [...args, page.limit, page.offset],
    );
    return { total, items };
  }
}

/**
 * The same account through any consent: by IBAN (and currency: Berlin Group multicurrency accounts
 * list one sub-account per currency under one IBAN); an account without an IBAN is known only by
 * its resourceId.
 */
export function accountKey(a: BankAccount): string {
  return a.iban ? `iban:${a.iban}:${a.currency}` : `ref:${a.resourceId}`;
}

/**
 * A transaction's identity at its bank: the bank's transactionId, else its entryReference, else a
 * fingerprint of what the bank says about it (a booked entry's fingerprint differs from the
 * pending one's, which the next full read then removes).
 */
export function transactionKey(t: BankTransaction): string {
  if (t.transactionId) return `id:${t.transactionId}`;
  if (t.entryReference) return `ref:${t.entryReference}`;
  const parts = [
    t.bookingStatus,
    t.bookingDate,
    t.valueDate,
    t.amount,
    t.currency,
    t.creditorIban,
    t.creditorName,
    t.debtorIban,
    t.debtorName,
    t.remittanceInformationUnstructured,
  ];
  return `fp:${createHash('sha256').update(JSON.stringify(parts)).digest('base64url')}`;
}

/**
 * How far back the stored copy is complete after a read from `readFrom` to today: the old coverage
 * still counts if this read starts inside it (no gap), otherwise only this read does.
 */
function coveredFrom(previousFrom: string | null, previousFetchedAt: Date | null, readFrom: string): string {
  if (previousFrom === null || previousFetchedAt === null) return readFrom;
  const noGap = readFrom <= utcDate(previousFetchedAt);
  return noGap && previousFrom < readFrom ? previousFrom : readFrom;
}

const toDate = (value: string | null): Date | null => (value === null ? null : new Date(value));

function toRead(row: ReadRow): StoredAccountsRead {
  const { version, now, nextRefreshAt, accounts, windows, connection, ...consent } = row;
  return {
    consent,
    version,
    now,
    nextRefreshAt,
    links: accounts.map(({ position: _, resourceId, ...a }) => ({
      resourceId,
      account: { ...a, balancesFetchedAt: toDate(a.balancesFetchedAt), transactionsFetchedAt: toDate(a.transactionsFetchedAt) },
    })),
    windows: windows.map((w) => ({ ...w, oldestCallAt: new Date(w.oldestCallAt), oldestReadAt: toDate(w.oldestReadAt) })),
    ...(connection ? { connection: connectionFromJson(connection) } : {}),
  };
}

/**
 * The bank's list as rows to write, in its order. An account key or a resourceId the bank lists
 * twice is written once, as its last listing says (each account is linked once, each resourceId
 * names one account).
 */
function accountRows(accounts: BankAccount[]): AccountRow[] {
  const keys = new Set<string>();
  const resourceIds = new Set<string>();
  const rows: AccountRow[] = [];
  for (let position = accounts.length - 1; position >= 0; position--) {
    const a = accounts[position]!;
    const key = accountKey(a);
    if (keys.has(key) || resourceIds.has(a.resourceId)) continue;
    keys.add(key);
    resourceIds.add(a.resourceId);
    const row = { accountKey: key, resourceId: a.resourceId, position } as AccountRow;
    for (const column of WRITTEN) row[column] = a[column] ?? null;
    rows.push(row);
  }
  return rows.reverse();
}

/** Whether the stored links already say exactly what `rows` would write (the same accounts, fields and resourceIds, in the same order). */
function sameAccounts(links: LinkedAccount[], rows: AccountRow[]): boolean {
  return (
    links.length === rows.length &&
    rows.every((row, i) => {
      const { account, resourceId } = links[i]!;
      return resourceId === row.resourceId && account.accountKey === row.accountKey && WRITTEN.every((column) => account[column] === row[column]);
    })
  );
}
