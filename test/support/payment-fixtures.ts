/** Payment test data: the sandbox's accounts and a valid payment body, shared by unit and end-to-end tests. */

/** Sandbox accounts (docs/sandbox.md). */
export const IBAN = {
  aliceFlowe: 'IT16N3677201600000000410001',
  bobFlowe: 'IT45P3677201600000000420002',
  aliceConnectPay: 'LT443250010000000101',
  bobConnectPay: 'LT493250030000000301',
  /** The sandbox's clearing-reject creditor: approved payments to it end RJCT. */
  reject: 'IT24M1234512345000000999999',
} as const;

export interface PaymentBody {
  debtorAccount: { iban: string };
  creditorAccount: { iban: string };
  creditorName: string;
  instructedAmount: { amount: string; currency: string };
  remittanceInformationUnstructured?: string;
  endToEndIdentification?: string;
  [extra: string]: unknown;
}

export function paymentBody(overrides: Partial<PaymentBody> = {}): PaymentBody {
  return {
    debtorAccount: { iban: IBAN.aliceFlowe },
    creditorAccount: { iban: IBAN.bobFlowe },
    creditorName: 'Bob Bianchi',
    instructedAmount: { amount: '12.50', currency: 'EUR' },
    remittanceInformationUnstructured: 'Dinner',
    ...overrides,
  };
}
