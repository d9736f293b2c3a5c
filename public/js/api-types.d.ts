/**
 * The shapes the demo page reads from the BFF, taken from the typed client generated from the API's
 * OpenAPI document (clients/typescript, `npm run openapi`): field names and enums are the contract's
 * own. The page reads exactly these, with no fallback for a missing or renamed field, so a change of
 * contract shows up as a type error in `npm run lint`, not as a silently blank cell.
 */
import type { components, operations } from '../../clients/typescript/schema';

type Schemas = components['schemas'];

export type DemoConfig = Schemas['DemoConfigView'];
export type UserToken = Schemas['UserTokenDto'];

export type Aspsp = Schemas['AspspView'];
export type AspspList = Schemas['AspspListView'];
export type ServiceId = Aspsp['services'][number];

export type Connection = Schemas['ConnectionView'];
export type ConnectionStatus = Connection['status'];
export type CreatedConnection = Schemas['CreatedConnectionView'];
export type ConnectionList = Schemas['ConnectionListView'];
export type CreateConnection = Schemas['CreateConnectionDto'];
export type ReauthorizeConnection = Schemas['ReauthorizeConnectionDto'];

export type Consent = Schemas['ConsentView'];
export type ConsentStatus = Consent['status'];
export type ConsentList = Schemas['ConsentListView'];

export type Amount = Schemas['AmountView'];
export type DataWarningCode = Schemas['DataWarning']['code'];
export type Account = Schemas['AccountView'];
export type Accounts = Schemas['AccountsView'];
/** Where stored data came from and how fresh it is: the fields every data answer carries. */
export type DataEnvelope = Pick<Accounts, 'fetchedAt' | 'source' | 'warning'>;
export type Balances = Schemas['BalancesView'];
export type Transaction = Schemas['TransactionView'];
export type BookingStatus = Transaction['bookingStatus'];
export type Transactions = Schemas['TransactionsView'];
/** The page passes `refresh` as a boolean; api.js writes it as the API's `true`. */
export type TransactionQuery = Omit<NonNullable<operations['listTransactions']['parameters']['query']>, 'refresh'> & { refresh?: boolean };

export type CreatePayment = Schemas['CreatePaymentDto'];
export type Payment = Schemas['PaymentView'];
export type PaymentStatus = Payment['status'];
export type ScaStatus = NonNullable<Payment['scaStatus']>;
export type PaymentList = Schemas['PaymentListView'];

export type Problem = Schemas['ProblemDetails'];

export type ConsentStatusEvent = Schemas['ConsentStatusEvent'];
export type PaymentStatusEvent = Schemas['PaymentStatusEvent'];
export type ConnectionStatusEvent = Schemas['ConnectionStatusEvent'];
export type ConnectionExpiringEvent = Schemas['ConnectionExpiringEvent'];
export type ConsentExpiringEvent = Schemas['ConsentExpiringEvent'];
