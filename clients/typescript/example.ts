/**
 * A small program on the typed client, the way a frontend uses it: the banks, connecting one, the
 * consents of an active connection, an account's transactions, and a problem answer handled by
 * its code. The client's test compiles it with tsc and runs it against a running BFF.
 */
import { createTppBffClient, type ErrorCode } from './index.js';

export interface TourInput {
  baseUrl: string;
  token: string;
  /** Where the bank login returns to (one of FRONTEND_RETURN_URLS). */
  returnUrl: string;
  /** An active connection with a valid consent. */
  connectionId: string;
}

export interface TourResult {
  banks: string[];
  startedConnection: { status: string; authorizationUrl: string };
  consentStatuses: string[];
  transactions: { accountId: string; total: number; firstAmount?: string };
  missingPayment: { status: number; code: ErrorCode; requestId?: string };
}

export async function tour(input: TourInput): Promise<TourResult> {
  const api = createTppBffClient({ baseUrl: input.baseUrl, token: input.token });

  const banks = await api.GET('/api/v1/aspsps');
  if (!banks.data) throw new Error(`listing banks failed: ${banks.error?.code}`);

  const started = await api.POST('/api/v1/connections', { body: { aspspId: banks.data.aspsps[0].id, returnUrl: input.returnUrl } });
  if (!started.data) throw new Error(`connecting failed: ${started.error?.code}`);

  const consents = await api.GET('/api/v1/connections/{id}/consents', { params: { path: { id: input.connectionId } } });
  if (!consents.data) throw new Error(`listing consents failed: ${consents.error?.code}`);
  const valid = consents.data.consents.find((c) => c.status === 'valid');
  if (!valid) throw new Error('the connection has no valid consent');

  const accounts = await api.GET('/api/v1/consents/{consentId}/accounts', { params: { path: { consentId: valid.id } } });
  if (!accounts.data) throw new Error(`listing accounts failed: ${accounts.error?.code}`);
  const accountId = accounts.data.accounts[0].id;
  const transactions = await api.GET('/api/v1/consents/{consentId}/accounts/{accountId}/transactions', {
    params: { path: { consentId: valid.id, accountId }, query: { bookingStatus: 'booked', limit: 5 } },
  });
  if (!transactions.data) throw new Error(`reading transactions failed: ${transactions.error?.code}`);

  // A payment that is not there: the error is the problem body, its code one of this route's.
  const missing = await api.GET('/api/v1/payments/{id}', { params: { path: { id: '00000000-0000-4000-8000-000000000000' } } });
  if (!missing.error) throw new Error('expected a problem answer');
  const code: ErrorCode = missing.error.code;

  return {
    banks: banks.data.aspsps.map((b) => b.id),
    startedConnection: { status: started.data.status, authorizationUrl: started.data.authorizationUrl },
    consentStatuses: consents.data.consents.map((c) => c.status),
    transactions: { accountId, total: transactions.data.total, firstAmount: transactions.data.transactions.booked[0]?.transactionAmount.amount },
    missingPayment: { status: missing.response.status, code, requestId: missing.error.requestId },
  };
}
