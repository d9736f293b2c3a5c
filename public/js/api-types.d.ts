/**
 * The shapes the demo page reads from the BFF, as /docs-json documents them (field names are the
 * API's own). The page reads exactly these: no fallback for a missing or renamed field, so a change
 * of contract shows up as a type error here or a failing browser test, not as a silently blank cell.
 */

export type ServiceId = 'ais' | 'pis';
export type ConnectionStatus = 'pending' | 'active' | 'reauth_required' | 'revoked' | 'failed';
export type ConsentStatus = 'pending' | 'unknown' | 'received' | 'valid' | 'rejected' | 'revokedByPsu' | 'expired' | 'terminatedByTpp' | 'invalid';
export type PaymentStatus =
  | 'ACCC'
  | 'ACCP'
  | 'ACSC'
  | 'ACSP'
  | 'ACTC'
  | 'ACWC'
  | 'ACWP'
  | 'RCVD'
  | 'PDNG'
  | 'RJCT'
  | 'CANC'
  | 'ACFC'
  | 'PATC'
  | 'PART'
  | 'pending'
  | 'unknown'
  | 'failed';
export type ScaStatus =
  'received' | 'psuIdentified' | 'psuAuthenticated' | 'scaMethodSelected' | 'started' | 'unconfirmed' | 'finalised' | 'failed' | 'exempted';
export type BookingStatus = 'booked' | 'pending';
export type DataWarningCode = 'budget_spent' | 'rate_limited';

export interface DemoConfig {
  sandboxUrl: string;
  publicUrl: string;
}

export interface UserToken {
  token: string;
}

export interface Aspsp {
  id: string;
  name: string;
  services: ServiceId[];
}

export interface AspspList {
  aspsps: Aspsp[];
}

export interface Connection {
  id: string;
  aspspId: string;
  services: ServiceId[];
  status: ConnectionStatus;
  failureReason?: string;
  reauthBy?: string;
  /** The bank login ends within the warning window (or has): offer "Log in again" (reauthorize). */
  expiresSoon: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface CreatedConnection extends Connection {
  authorizationUrl: string;
}

export interface ConnectionList {
  connections: Connection[];
}

export interface CreateConnection {
  aspspId: string;
  services?: ServiceId[];
  returnUrl: string;
}

export interface ReauthorizeConnection {
  returnUrl?: string;
}

export interface Consent {
  id: string;
  connectionId: string;
  aspspId: string;
  status: ConsentStatus;
  reconsentRequired: boolean;
  statusReason?: string;
  validUntil: string;
  /** A valid consent near its validUntil: offer "Renew access" (a new consent). */
  expiresSoon: boolean;
  frequencyPerDay: number;
  recurringIndicator: boolean;
  statusChangedAt: string;
  createdAt: string;
}

export interface ConsentList {
  consents: Consent[];
}

export interface Amount {
  amount: string;
  currency: string;
}

export interface DataWarning {
  code: DataWarningCode;
  detail: string;
  nextRefreshAt?: string;
}

/** Common to every account-data answer: where it came from and how old it is. */
export interface DataEnvelope {
  fetchedAt: string;
  source: 'bank' | 'storage';
  warning?: DataWarning;
}

export interface Account {
  id: string;
  iban?: string;
  bban?: string;
  maskedPan?: string;
  currency: string;
  name?: string;
  product?: string;
  cashAccountType?: string;
  ownerName?: string;
  bic?: string;
}

export interface Accounts extends DataEnvelope {
  consentId: string;
  accounts: Account[];
}

export interface Balance {
  balanceType: string;
  balanceAmount: Amount;
  referenceDate?: string;
  lastChangeDateTime?: string;
}

export interface Balances extends DataEnvelope {
  accountId: string;
  balances: Balance[];
}

export interface Transaction {
  id: string;
  transactionId?: string;
  entryReference?: string;
  bookingStatus: BookingStatus;
  bookingDate?: string;
  valueDate?: string;
  transactionAmount: Amount;
  creditorName?: string;
  creditorAccount?: { iban: string };
  debtorName?: string;
  debtorAccount?: { iban: string };
  remittanceInformationUnstructured?: string;
}

export interface Transactions extends DataEnvelope {
  accountId: string;
  dateFrom: string;
  dateTo: string;
  bookingStatus: BookingStatus | 'both';
  total: number;
  limit: number;
  offset: number;
  transactions: { booked: Transaction[]; pending: Transaction[] };
}

export interface TransactionQuery {
  dateFrom?: string;
  dateTo?: string;
  bookingStatus?: BookingStatus | 'both';
  limit?: number;
  offset?: number;
  refresh?: boolean;
}

export interface CreatePayment {
  debtorAccount: { iban: string };
  creditorAccount: { iban: string };
  creditorName: string;
  instructedAmount: Amount;
  remittanceInformationUnstructured?: string;
}

export interface Payment {
  id: string;
  connectionId: string;
  aspspId: string;
  product: string;
  status: PaymentStatus;
  scaStatus?: ScaStatus;
  bankPaymentId?: string;
  debtorAccount: { iban: string };
  creditorAccount: { iban: string };
  creditorName: string;
  instructedAmount: Amount;
  remittanceInformationUnstructured?: string;
  endToEndIdentification: string;
  chargeBearer?: string;
  failureCode?: string;
  createdAt: string;
  updatedAt: string;
  statusChangedAt: string;
  /** Whether the BFF still asks the bank (a late RJCT can follow ACSC while it does), and why it stopped. */
  statusTracking: { active: boolean; until?: string; endedAt?: string; endReason?: 'final_status' | 'settlement_window_closed' };
}

export interface PaymentList {
  payments: Payment[];
  nextCursor?: string;
}

/** RFC 9457 problem+json; `code` is the stable machine-readable part the page switches on. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  requestId?: string;
  errors?: { field: string; message: string }[];
  /** Bank errors: which bank, and what it said. */
  aspspId?: string;
  bankCode?: string;
  tppMessages?: { category?: string; code: string; text?: string; path?: string }[];
  retryAfterSeconds?: number;
}

/** `data:` of the events on GET /api/v1/events. */
export interface ConsentStatusEvent {
  eventId: string;
  consentId: string;
  connectionId: string;
  status: ConsentStatus;
  reconsentRequired: boolean;
}

export interface ConnectionStatusEvent {
  eventId: string;
  connectionId: string;
  aspspId: string;
  status: ConnectionStatus;
  previousStatus: ConnectionStatus;
  reason?: string;
  reauthBy?: string;
}

export interface ConnectionExpiringEvent {
  eventId: string;
  connectionId: string;
  aspspId: string;
  reauthBy: string;
}

export interface ConsentExpiringEvent {
  eventId: string;
  consentId: string;
  connectionId: string;
  aspspId: string;
  validUntil: string;
}

export interface PaymentStatusEvent {
  eventId: string;
  paymentId: string;
  connectionId: string;
  status: PaymentStatus;
  scaStatus: ScaStatus | null;
  /** Set on the event that says the BFF stopped asking the bank about it. */
  trackingEndReason?: 'final_status' | 'settlement_window_closed';
}
