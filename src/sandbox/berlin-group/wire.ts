/**
 * Berlin Group NextGenPSD2 v1.3.12 wire types — only the parts the simulator reads or writes.
 * Names follow the OpenAPI file's components/schemas.
 */
export interface Href {
  readonly href: string;
}

export type Links = Readonly<Record<string, Href>>;

export interface AccountReference {
  readonly iban?: string;
  readonly currency?: string;
}

export interface Amount {
  readonly currency: string;
  /** Decimal string, never a number. */
  readonly amount: string;
}

export type AllAccountsValue = 'allAccounts' | 'allAccountsWithOwnerName';

export interface AccountAccess {
  readonly accounts?: readonly AccountReference[];
  readonly balances?: readonly AccountReference[];
  readonly transactions?: readonly AccountReference[];
  readonly availableAccounts?: AllAccountsValue;
  readonly availableAccountsWithBalance?: AllAccountsValue;
  readonly allPsd2?: AllAccountsValue;
}

/** POST /v1/consents body (schema `consents`). */
export interface ConsentRequest {
  readonly access: AccountAccess;
  readonly recurringIndicator: boolean;
  readonly validUntil: string;
  readonly frequencyPerDay: number;
  readonly combinedServiceIndicator: boolean;
}

export type ConsentStatus = 'received' | 'rejected' | 'valid' | 'revokedByPsu' | 'expired' | 'terminatedByTpp';
export type ScaStatus = 'received' | 'finalised' | 'failed';
/** The ISO 20022 statuses the simulator produces. */
export type TransactionStatus = 'RCVD' | 'ACSP' | 'ACSC' | 'RJCT' | 'CANC';

export interface ConsentCreatedResponse {
  readonly consentStatus: ConsentStatus;
  readonly consentId: string;
  readonly _links: Links;
}

export interface ConsentInformationResponse extends ConsentRequestEcho {
  readonly lastActionDate: string;
  readonly consentStatus: ConsentStatus;
  readonly _links?: Links;
}

type ConsentRequestEcho = Omit<ConsentRequest, 'combinedServiceIndicator'>;

export interface Balance {
  readonly balanceAmount: Amount;
  readonly balanceType: 'closingBooked' | 'expected' | 'interimAvailable';
  readonly referenceDate?: string;
  readonly lastChangeDateTime?: string;
}

export interface AccountDetails {
  readonly resourceId: string;
  readonly iban: string;
  readonly bic: string;
  readonly currency: string;
  readonly name: string;
  readonly product: string;
  readonly cashAccountType: string;
  readonly status: 'enabled';
  readonly usage: 'PRIV' | 'ORGA';
  readonly ownerName?: string;
  readonly balances?: readonly Balance[];
  readonly _links?: Links;
}

export interface TransactionDetails {
  readonly transactionId: string;
  readonly entryReference: string;
  /** The payment's end-to-end id, as a bank shows it on the statement of a credit transfer (and of its return). */
  readonly endToEndId?: string;
  readonly bookingDate?: string;
  readonly valueDate: string;
  readonly transactionAmount: Amount;
  readonly creditorName: string;
  readonly creditorAccount: AccountReference;
  readonly debtorName: string;
  readonly debtorAccount: AccountReference;
  readonly remittanceInformationUnstructured: string;
}

export interface TransactionsResponse {
  readonly account: AccountReference;
  readonly transactions: {
    readonly booked?: readonly TransactionDetails[];
    readonly pending?: readonly TransactionDetails[];
    readonly _links: Links;
  };
}

/** POST /v1/payments/sepa-credit-transfers body, as accepted by the simulator (IBAN-only). */
export interface PaymentInitiation {
  readonly debtorAccount: { readonly iban: string };
  readonly creditorAccount: { readonly iban: string };
  readonly creditorName: string;
  readonly instructedAmount: Amount;
  readonly remittanceInformationUnstructured?: string;
  readonly endToEndIdentification?: string;
  readonly chargeBearer?: 'DEBT' | 'CRED' | 'SHAR' | 'SLEV';
  readonly requestedExecutionDate?: string;
}

export interface PaymentCreatedResponse {
  readonly transactionStatus: TransactionStatus;
  readonly paymentId: string;
  readonly transactionFeeIndicator: boolean;
  readonly _links: Links;
}
