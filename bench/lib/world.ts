import { randomUUID } from 'node:crypto';
import { sepaCreditTransferBody, type SepaCreditTransferBody } from '../../src/aspsp/berlin-group/pis-wire.js';
import { DEFAULT_FLOWE_CLIENT, FLOWE_POLICY, FLOWE_SCOPES } from '../../src/sandbox/config.js';
import type { BenchDatabase } from './database.js';
import { expectHop, hop, mapLimit } from './http.js';
import type { Bff, Server } from './servers.js';

/**
 * Test data, made the way a frontend and a PSU make it: demo logins, bank connections through the
 * sandbox's login pages, consents approved in the PSU app, first reads that fill the store. Only
 * bulk rows the API cannot make quickly (poll items, outbox events) are inserted with SQL.
 */

/** Sandbox accounts (docs/sandbox.md): alice's Flowe account pays bob's. */
export const IBAN = { aliceFlowe: 'IT16N3677201600000000410001', bobFlowe: 'IT45P3677201600000000420002' } as const;
export const PSU_IP = '198.51.100.7';
/** A page of this many stored transactions is ~30 KB of JSON. */
export const TRANSACTIONS_PAGE = 64;

export interface BffUser {
  userId: string;
  token: string;
  connectionId: string;
  consentId: string;
  accountId: string;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function demoLogin(bff: Server, userId: string): Promise<string> {
  return (await expectHop('demo login', 201, `${bff.origin}/api/v1/sandbox/login`, { json: { userId } })).json<{ token: string }>().token;
}

/**
 * A BFF user with an active Flowe connection (logged in at the bank as alice), a valid consent and
 * the accounts (and, with `transactions`, the account's transactions) stored.
 */
export async function connectedUser(bff: Bff, sandbox: Server, db: BenchDatabase, userId: string, options: { transactions?: boolean } = {}): Promise<BffUser> {
  const token = await demoLogin(bff, userId);
  const created = await expectHop('create connection', 201, `${bff.origin}/api/v1/connections`, {
    headers: bearer(token),
    json: { aspspId: 'flowe', returnUrl: `${bff.origin}/` },
  });
  const { id: connectionId, authorizationUrl } = created.json<{ id: string; authorizationUrl: string }>();
  // The browser that created the connection carries its start cookie to the login: no confirmation page.
  const startCookie = created.setCookies.map((c) => c.split(';')[0]).join('; ');
  const login = await expectHop('BFF login redirect', 302, new URL(authorizationUrl, bff.origin).toString(), { headers: { cookie: startCookie } });
  const cookie = login.setCookies.map((c) => c.split(';')[0]).join('; ');
  const authorize = await expectHop('bank authorize', 302, login.location!);
  const loginPage = new URL(authorize.location!);
  const request = loginPage.searchParams.get('request')!;
  const submitted = await expectHop('bank login', 302, loginPage.toString(), {
    form: { request, username: 'alice', password: 'sandbox', otp: '123456', decision: 'allow' },
  });
  const back = await expectHop('BFF callback', 302, submitted.location!, { headers: { cookie } });
  if (new URL(back.location!).searchParams.get('result') !== 'success') throw new Error(`connecting ${userId} failed: ${back.location}`);

  const consent = await expectHop('create consent', 201, `${bff.origin}/api/v1/connections/${connectionId}/consents`, { headers: bearer(token), json: {} });
  const consentId = consent.json<{ id: string }>().id;
  const [{ bank_consent_id: bankConsentId }] = await db.query<{ bank_consent_id: string }>('SELECT bank_consent_id FROM ais_consents WHERE id = $1', [
    consentId,
  ]);
  await expectHop('PSU approves the consent', 200, `${sandbox.origin}/psu/api/decisions`, {
    json: { kind: 'consent', id: bankConsentId, decision: 'approve' },
  });
  const status = await expectHop('consent status', 200, `${bff.origin}/api/v1/consents/${consentId}?refresh=true`, { headers: bearer(token) });
  if (status.json<{ status: string }>().status !== 'valid') throw new Error(`consent of ${userId} is not valid: ${status.text}`);
  // The first read goes to the bank and fills the store; later reads without refresh are served from it.
  const accounts = await expectHop('first accounts read', 200, `${bff.origin}/api/v1/consents/${consentId}/accounts`, { headers: bearer(token) });
  const accountId = accounts.json<{ accounts: { id: string }[] }>().accounts[0]!.id;
  if (options.transactions)
    await expectHop('first transactions read', 200, `${bff.origin}${transactionsPath({ consentId, accountId })}`, { headers: bearer(token) });
  return { userId, token, connectionId, consentId, accountId };
}

export const accountsPath = (u: Pick<BffUser, 'consentId'>) => `/api/v1/consents/${u.consentId}/accounts`;
export const transactionsPath = (u: Pick<BffUser, 'consentId' | 'accountId'>) =>
  `/api/v1/consents/${u.consentId}/accounts/${u.accountId}/transactions?limit=${TRANSACTIONS_PAGE}`;
export const paymentsPath = (u: Pick<BffUser, 'connectionId'>) => `/api/v1/connections/${u.connectionId}/payments`;

/** What the frontend posts for a payment (alice's Flowe account to bob's). */
export const PAYMENT_REQUEST = {
  debtorAccount: { iban: IBAN.aliceFlowe },
  creditorAccount: { iban: IBAN.bobFlowe },
  creditorName: 'Bob Bianchi',
  instructedAmount: { amount: '1.25', currency: 'EUR' },
  remittanceInformationUnstructured: 'bench',
};

/** Payments through the BFF from the benchmark process (seeding, not measured). */
export async function createPayments(bff: Server, user: BffUser, count: number): Promise<void> {
  await mapLimit(
    Array.from({ length: count }, () => randomUUID()),
    8,
    (key) =>
      expectHop('seed payment', 201, `${bff.origin}${paymentsPath(user)}`, {
        headers: { ...bearer(user.token), 'idempotency-key': key },
        json: PAYMENT_REQUEST,
      }),
  );
}

// ---------------------------------------------------------------------------------------------
// The same bank, called directly (the anchors): the TPP's own OAuth login and consent at Flowe.

export const FLOWE = {
  ais: '/flowe/openbankingais/v1',
  pis: '/flowe/openbankingpis/v1',
  subscriptionKey: { 'PO-APIKey': DEFAULT_FLOWE_CLIENT.subscriptionKey },
} as const;

export interface BankSession {
  accessToken: string;
  consentId: string;
}

const FLOWE_SCOPE = [FLOWE_SCOPES.offlineAccess, FLOWE_SCOPES.userImpersonation, FLOWE_SCOPES.aisp, FLOWE_SCOPES.pisp].join(' ');

/** Logs alice in at the sandbox's Flowe IdP, gets a token and a valid (approved) consent. */
export async function bankSession(sandbox: Server): Promise<BankSession> {
  const redirectUri = 'http://127.0.0.1:1/auth/flowe/callback';
  const query = new URLSearchParams({
    p: FLOWE_POLICY,
    client_id: DEFAULT_FLOWE_CLIENT.clientId,
    state: randomUUID(),
    redirect_uri: redirectUri,
    scope: FLOWE_SCOPE,
    response_type: 'code',
    prompt: 'login',
  });
  const authorize = await expectHop('Flowe authorize', 302, `${sandbox.origin}/flowe/idp/oauth2/v2.0/authorize?${query.toString()}`);
  const loginUrl = new URL(authorize.location!);
  const request = loginUrl.searchParams.get('request')!;
  const login = await expectHop('Flowe login', 302, loginUrl.toString(), {
    form: { request, username: 'alice', password: 'sandbox', otp: '123456', decision: 'allow' },
  });
  const code = new URL(login.location!).searchParams.get('code')!;
  const token = await expectHop('Flowe token', 200, `${sandbox.origin}/flowe/idp/oauth2/v2.0/token?p=${FLOWE_POLICY}`, {
    form: {
      grant_type: 'authorization_code',
      code,
      client_id: DEFAULT_FLOWE_CLIENT.clientId,
      client_secret: DEFAULT_FLOWE_CLIENT.clientSecret,
      scope: FLOWE_SCOPE,
    },
  });
  const accessToken = token.json<{ access_token: string }>().access_token;
  const validUntil = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  // Flowe answers consent creation as its guide shows: 200 (the sandbox's default).
  const consent = await expectHop('Flowe consent', 200, `${sandbox.origin}${FLOWE.ais}/consents`, {
    headers: { ...bankHeaders(accessToken), 'PSU-IP-Address': PSU_IP },
    json: {
      access: { availableAccounts: 'allAccounts', allPsd2: 'allAccounts' },
      recurringIndicator: true,
      validUntil,
      frequencyPerDay: 4,
      combinedServiceIndicator: false,
    },
  });
  const consentId = consent.json<{ consentId: string }>().consentId;
  await expectHop('PSU approves the consent', 200, `${sandbox.origin}/psu/api/decisions`, { json: { kind: 'consent', id: consentId, decision: 'approve' } });
  return { accessToken, consentId };
}

/** Headers of every Flowe API call; one fixed X-Request-ID keeps the anchor's requests as cheap to generate as the BFF's. */
export function bankHeaders(accessToken: string): Record<string, string> {
  return { Authorization: `Bearer ${accessToken}`, 'X-Request-ID': '7d3c9a1e-5b2f-4c8d-9e0a-1f2b3c4d5e6f', ...FLOWE.subscriptionKey };
}

/** An attended accounts read at the bank, as the BFF makes it on `refresh=true`. */
export function bankAccountsRequest(session: BankSession) {
  return {
    method: 'GET' as const,
    path: `${FLOWE.ais}/accounts`,
    headers: { ...bankHeaders(session.accessToken), 'Consent-ID': session.consentId, 'PSU-IP-Address': PSU_IP },
  };
}

/** The initiation the BFF sends for PAYMENT_REQUEST. */
export function bankPaymentBody(): SepaCreditTransferBody {
  return sepaCreditTransferBody(
    {
      debtorIban: IBAN.aliceFlowe,
      creditorIban: IBAN.bobFlowe,
      creditorName: PAYMENT_REQUEST.creditorName,
      amount: PAYMENT_REQUEST.instructedAmount.amount,
      currency: 'EUR',
      remittanceInformationUnstructured: 'bench',
      endToEndIdentification: 'BENCH-E2E-0001',
    },
    'DEBT',
  );
}

export function bankPaymentRequest(session: BankSession) {
  return {
    method: 'POST' as const,
    path: `${FLOWE.pis}/payments/sepa-credit-transfers`,
    headers: { ...bankHeaders(session.accessToken), 'PSU-IP-Address': PSU_IP, 'Content-Type': 'application/json' },
    body: JSON.stringify(bankPaymentBody()),
  };
}

/** Payment initiations the sandbox has answered 201, from its admin statistics. */
export async function bankPaymentsCreated(sandbox: Server): Promise<number> {
  const stats = (await hop(`${sandbox.origin}/admin/stats`)).json<{ stats: Record<string, Record<string, Record<string, number>>> }>().stats;
  return stats.flowe?.payments?.['201'] ?? 0;
}

/**
 * `count` more payments awaiting approval for the scheduler to poll, quickly: each is created for
 * real at the bank (directly, as alice, so the BFF's connection may read its status), and its row
 * is a copy of one the BFF made through its API, with the bank's ids swapped in, plus its poll item
 * (bulk SQL, as the pollers would find them after a busy hour of payments).
 */
export async function seedPollablePayments(bff: Server, sandbox: Server, db: BenchDatabase, user: BffUser, session: BankSession, count: number): Promise<void> {
  let [template] = await db.query<{ id: string }>(
    "SELECT id FROM payments WHERE connection_id = $1 AND bank_payment_id IS NOT NULL AND status = 'RCVD' LIMIT 1",
    [user.connectionId],
  );
  if (!template) {
    await createPayments(bff, user, 1);
    [template] = await db.query<{ id: string }>(
      "SELECT id FROM payments WHERE connection_id = $1 AND bank_payment_id IS NOT NULL AND status = 'RCVD' LIMIT 1",
      [user.connectionId],
    );
  }
  const created = await mapLimit(
    Array.from({ length: count }, () => 0),
    16,
    async () => {
      const res = await expectHop('bank payment', 201, `${sandbox.origin}${FLOWE.pis}/payments/sepa-credit-transfers`, {
        headers: { ...bankHeaders(session.accessToken), 'PSU-IP-Address': PSU_IP },
        json: bankPaymentBody(),
      });
      const body = res.json<{ paymentId: string; _links: { scaStatus: { href: string } } }>();
      return { paymentId: body.paymentId, authorisationId: body._links.scaStatus.href.split('/').pop()! };
    },
  );
  const columns = (
    await db.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'payments' AND column_name NOT IN ('id', 'seq') ORDER BY ordinal_position",
    )
  ).map((c) => c.column_name);
  const replaced: Record<string, string> = {
    idempotency_key: "'bench-poll-' || b.payment_id",
    bank_payment_id: 'b.payment_id',
    authorisation_id: 'b.authorisation_id',
    created_at: 'now()',
    updated_at: 'now()',
    status_changed_at: 'now()',
  };
  await db.query(
    `WITH copied AS (
       INSERT INTO payments (${columns.join(', ')})
       SELECT ${columns.map((c) => replaced[c] ?? `t.${c}`).join(', ')}
       FROM payments t, unnest($2::text[], $3::text[]) AS b(payment_id, authorisation_id)
       WHERE t.id = $1
       RETURNING id, aspsp_id
     )
     INSERT INTO poll_items (kind, resource_id, aspsp_id, next_poll_at) SELECT 'payment', id, aspsp_id, now() FROM copied`,
    [template!.id, created.map((c) => c.paymentId), created.map((c) => c.authorisationId)],
  );
}
