import { DataSource } from 'typeorm';
import { AspspRegistry } from '../../src/aspsp/aspsp.registry.js';
import { OutboxStore } from '../../src/modules/events/outbox.store.js';
import { accessTokenOf, connectUser } from '../support/bank-world.js';
import type { TestBff } from '../support/bff.js';
import { recordingHandler, type PollCall } from './support.js';
import type { PollHandler } from '../../src/modules/polling/poll-handlers.js';

export const ALICE_FLOWE_IBAN = 'IT16N3677201600000000410001';
export const BOB_FLOWE_IBAN = 'IT45P3677201600000000420002';

/** Connects `user` to Flowe through the BFF and returns the connection id and a valid bank access token. */
export async function connectFlowe(bff: TestBff, user: string): Promise<{ connectionId: string; accessToken: string }> {
  const { connectionId } = await connectUser(bff.url, user, 'flowe');
  return { connectionId, accessToken: await accessTokenOf(bff, connectionId) };
}

/** Initiates a payment at the sandbox directly (as the PIS service would) and returns the bank's paymentId. */
export async function initiateAtBank(bff: TestBff, accessToken: string, n = 0): Promise<string> {
  const res = await bff.app
    .get(AspspRegistry)
    .get('flowe')
    .api.call<{ paymentId: string }>({
      method: 'POST',
      operation: 'payment',
      service: 'pis',
      path: '/payments/sepa-credit-transfers',
      accessToken,
      psuIpAddress: '127.0.0.1',
      json: {
        debtorAccount: { iban: ALICE_FLOWE_IBAN },
        creditorAccount: { iban: BOB_FLOWE_IBAN },
        creditorName: 'Bob Bianchi',
        instructedAmount: { currency: 'EUR', amount: `${1 + (n % 50)}.00` },
      },
    });
  return res.body.paymentId;
}

/**
 * A stand-in for `PaymentsService.pollStatus` (ending at settlement): one status request to the bank (no retries inside
 * the poll, so each poll is exactly one request in the sandbox's log), and on a change the outbox
 * event in a transaction, as the PIS service records it.
 */
export function bankStatusHandler(
  bff: TestBff,
  options: { app: string; log: PollCall[]; accessToken: string; bankIds: Map<string, string>; userId: string; connectionId: string },
): PollHandler {
  const api = bff.app.get(AspspRegistry).get('flowe').api;
  return recordingHandler(options.log, options.app, async (context) => {
    const res = await api.call<{ transactionStatus: string }>({
      method: 'GET',
      operation: 'payment-status',
      service: 'pis',
      path: `/payments/sepa-credit-transfers/${options.bankIds.get(context.resourceId)}/status`,
      accessToken: options.accessToken,
    });
    const status = res.body.transactionStatus;
    if (status !== (context.lastStatus ?? 'RCVD')) {
      await bff.app.get(DataSource).transaction((manager) =>
        bff.app.get(OutboxStore).record(manager, {
          userId: options.userId,
          type: 'payment.status',
          data: { paymentId: context.resourceId, connectionId: options.connectionId, status },
        }),
      );
    }
    // This stand-in is done at settlement; the real handler keeps watching a settled payment for
    // a late clearing reject (flows.spec.ts).
    return { final: ['ACSC', 'ACCC', 'RJCT', 'CANC'].includes(status), status };
  });
}
