import { randomInt, randomUUID } from 'node:crypto';
import { cookieHeader, hop } from '../support/bank-login.js';
import type { ApiAnswer, ApiClient } from './api-client.js';
import type { Replica } from './replicas.js';

export interface UserPlan {
  userId: string;
  /** Who logs in at the bank. */
  bankUser: 'alice' | 'bob';
  aspspId: 'flowe' | 'connectpay';
  debtorIban: string;
  creditorIban: string;
  creditorName: string;
}

/** One payment the user meant to make: one Idempotency-Key, however many times it was sent. */
export interface PaymentIntent {
  key: string;
  amount: string;
  attempts: number;
  /** The last answer's status (0: no replica answered). */
  lastStatus: number;
  paymentId?: string;
  bankPaymentId?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A user of the frontend during the soak: connects a bank, gets account access, then pays, reads
 * its statement, lists and cancels payments, retrying as a careful client does (the same
 * Idempotency-Key after no answer, a 5xx or a 409 in flight; never a new key for the same
 * payment). Every answer is counted by status.
 */
export class SoakUser {
  connectionId: string | undefined;
  consentId: string | undefined;
  accountId: string | undefined;
  readonly intents: PaymentIntent[] = [];
  readonly answers = new Map<number, number>();
  private cents = randomInt(100, 900);
  /** The last answer received, for a failure message that says where set-up stopped. */
  private lastAnswer: unknown;
  private readonly connectErrors = new Set<string>();

  constructor(
    readonly plan: UserPlan,
    readonly client: ApiClient,
    private readonly replicas: readonly Replica[],
  ) {}

  /** Bank connection and account access, retried until done (the bank faults meanwhile) or the deadline. */
  async setUp(deadline: number): Promise<void> {
    while (!this.connectionId && Date.now() < deadline) {
      this.connectionId = await this.connect().catch(async (error: unknown) => {
        this.connectErrors.add(String(error));
        this.lastAnswer = { connect: [...this.connectErrors] };
        await sleep(500);
        return undefined;
      });
    }
    while (!this.consentId && Date.now() < deadline) {
      const created = await this.request('POST', `/api/v1/connections/${this.connectionId}/consents`, {});
      if (created?.status === 201) this.consentId = created.body.id as string;
      else await sleep(500);
    }
    // The PSU approves in the bank app (the PSU loop); the scheduler, or this read, notices.
    while (Date.now() < deadline) {
      const consent = await this.request('GET', `/api/v1/consents/${this.consentId}?refresh=true`);
      if (consent?.body.status === 'valid') break;
      await sleep(700);
    }
    while (!this.accountId && Date.now() < deadline) {
      const accounts = await this.request('GET', `/api/v1/consents/${this.consentId}/accounts?refresh=true`);
      const account = (accounts?.body.accounts as { id: string; iban: string }[] | undefined)?.find((a) => a.iban === this.plan.debtorIban);
      if (account) this.accountId = account.id;
      else await sleep(500);
    }
    if (!this.accountId) {
      const stage = !this.connectionId ? 'bank connection' : !this.consentId ? 'consent' : 'account list';
      throw new Error(`${this.plan.userId}: not set up in time, stuck at the ${stage}; last answer ${JSON.stringify(this.lastAnswer)}`);
    }
  }

  /** One thing a user does, picked at random. */
  async act(): Promise<void> {
    const dice = randomInt(100);
    if (dice < 50) await this.pay();
    else if (dice < 80) await this.readStatement();
    else if (dice < 90) await this.request('GET', '/api/v1/payments?limit=20');
    else await this.cancelOne();
  }

  /** A new payment; the same key is sent again after no answer, a 5xx or a 409 in flight. */
  async pay(): Promise<PaymentIntent> {
    this.cents += randomInt(1, 40);
    const intent: PaymentIntent = {
      key: randomUUID(),
      amount: `${Math.floor(this.cents / 100)}.${String(this.cents % 100).padStart(2, '0')}`,
      attempts: 0,
      lastStatus: 0,
    };
    this.intents.push(intent);
    const body = {
      debtorAccount: { iban: this.plan.debtorIban },
      creditorAccount: { iban: this.plan.creditorIban },
      creditorName: this.plan.creditorName,
      instructedAmount: { currency: 'EUR', amount: intent.amount },
      remittanceInformationUnstructured: 'soak',
    };
    for (; intent.attempts < 5;) {
      intent.attempts++;
      const answer = await this.request('POST', `/api/v1/connections/${this.connectionId}/payments`, body, { 'idempotency-key': intent.key });
      intent.lastStatus = answer?.status ?? 0;
      if (answer) {
        intent.paymentId ??= (answer.body.id ?? answer.body.paymentId) as string | undefined;
        intent.bankPaymentId ??= answer.body.bankPaymentId as string | undefined;
      }
      // An answer that carries the payment's status is the key's stored outcome (an unknown one
      // included): sending it again would only replay it. No answer, a 409 in flight or a 5xx
      // before the payment was recorded (the bank or the database unavailable) is retried.
      if (answer && answer.status !== 409 && (answer.status < 500 || answer.body.paymentStatus !== undefined)) break;
      await sleep(Number(answer?.body.retryAfterSeconds ?? 1) * 1000);
    }
    return intent;
  }

  /** An attended read of the account's transactions: what brings statements in for reconciliation. */
  async readStatement(): Promise<void> {
    await this.request('GET', `/api/v1/consents/${this.consentId}/accounts/${this.accountId}/transactions?refresh=true&limit=5`);
  }

  private async cancelOne(): Promise<void> {
    const open = this.intents.filter((i) => i.paymentId && i.bankPaymentId).slice(-3);
    if (open.length === 0) return;
    await this.request('DELETE', `/api/v1/payments/${open[randomInt(open.length)].paymentId}`);
  }

  /** One call on any live replica; undefined when none answered. */
  async request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer | undefined> {
    try {
      const answer = await this.client.call(method, path, body, headers);
      this.lastAnswer = { method, path, status: answer.status, body: answer.body };
      this.answers.set(answer.status, (this.answers.get(answer.status) ?? 0) + 1);
      return answer;
    } catch {
      this.answers.set(0, (this.answers.get(0) ?? 0) + 1);
      return undefined;
    }
  }

  /** The whole bank login on one live replica, as a browser makes it. */
  private async connect(): Promise<string> {
    const replica = this.replicas.find((r) => r.alive) ?? this.replicas[0];
    const token = await this.client.tokenAt(replica);
    const created = await fetch(`${replica.url}/api/v1/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ aspspId: this.plan.aspspId, returnUrl: `${replica.url}/` }),
    });
    if (created.status !== 201) throw new Error(`connect answered ${created.status}`);
    const { id, authorizationUrl } = (await created.json()) as { id: string; authorizationUrl: string };
    // The web app's browser keeps the start cookie that binds the bank login to this user.
    const login = await hop(new URL(authorizationUrl, replica.url).toString(), { headers: { cookie: cookieHeader(created.headers.getSetCookie()) } });
    const authorize = await hop(login.location!);
    const loginRequest = new URL(authorize.location!).searchParams.get('request')!;
    const form = new URLSearchParams({ request: loginRequest, username: this.plan.bankUser, password: 'sandbox', otp: '123456', decision: 'allow' });
    const submitted = await hop(new URL(authorize.location!).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const back = await hop(submitted.location!, { headers: { cookie: cookieHeader(login.setCookies) } });
    const result = new URL(back.location!).searchParams.get('result');
    if (result !== 'success') throw new Error(`bank login ended ${result}`);
    return id;
  }
}
