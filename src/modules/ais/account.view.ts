import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { StoredAccount, StoredBalance, StoredTransaction } from './account.store.js';
import { BudgetView } from './budget.view.js';

export class AmountView {
  @ApiProperty({ pattern: '^-?[0-9]{1,14}(\\.[0-9]{1,3})?$', example: '-12.30', description: 'Decimal string, never a number' }) amount!: string;
  @ApiProperty({ pattern: '^[A-Z]{3}$', example: 'EUR' }) currency!: string;
}

/** Why stored data is served and when it can next be refreshed in the background. */
export class DataWarning {
  @ApiProperty({ enum: ['budget_spent', 'rate_limited'] }) code!: 'budget_spent' | 'rate_limited';
  @ApiProperty() detail!: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the next background refresh is allowed' }) nextRefreshAt?: string;
}

/** Common to every AIS data answer: where it came from, how old it is, and when it will next be refreshed in the background. */
export class DataEnvelope {
  @ApiProperty({ format: 'date-time', description: 'When this data was read from the bank' }) fetchedAt!: string;
  @ApiProperty({ enum: ['bank', 'storage'], description: 'bank = read now (attended); storage = the stored copy' }) source!: 'bank' | 'storage';
  @ApiPropertyOptional({ type: DataWarning, description: "Served from storage while the bank's unattended budget is spent" }) warning?: DataWarning;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the stored copy will next be refreshed in the background (absent: no refresh planned)' })
  nextRefreshAt?: string;
  @ApiProperty({ type: BudgetView, description: "The consent's unattended budget now" }) budget!: BudgetView;
}

export class AccountView {
  @ApiProperty({ format: 'uuid', description: 'Stable across consents: the same IBAN is the same account' }) id!: string;
  @ApiPropertyOptional() iban?: string;
  @ApiPropertyOptional() bban?: string;
  @ApiPropertyOptional() maskedPan?: string;
  @ApiProperty() currency!: string;
  @ApiPropertyOptional() name?: string;
  @ApiPropertyOptional() product?: string;
  @ApiPropertyOptional() cashAccountType?: string;
  @ApiPropertyOptional() ownerName?: string;
  @ApiPropertyOptional() bic?: string;
}

export class AccountsView extends DataEnvelope {
  @ApiProperty({ format: 'uuid' }) consentId!: string;
  @ApiProperty({ type: [AccountView] }) accounts!: AccountView[];
}

export class BalanceView {
  @ApiProperty({ example: 'closingBooked' }) balanceType!: string;
  @ApiProperty({ type: AmountView }) balanceAmount!: AmountView;
  @ApiPropertyOptional({ format: 'date' }) referenceDate?: string;
  @ApiPropertyOptional({ format: 'date-time' }) lastChangeDateTime?: string;
}

export class BalancesView extends DataEnvelope {
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty({ type: [BalanceView] }) balances!: BalanceView[];
}

export class AccountRefView {
  @ApiProperty() iban!: string;
}

export class TransactionView {
  @ApiProperty({ description: 'Our stable id of this transaction' }) id!: string;
  @ApiPropertyOptional() transactionId?: string;
  @ApiPropertyOptional() entryReference?: string;
  @ApiProperty({ enum: ['booked', 'pending'] }) bookingStatus!: 'booked' | 'pending';
  @ApiPropertyOptional({ format: 'date' }) bookingDate?: string;
  @ApiPropertyOptional({ format: 'date' }) valueDate?: string;
  @ApiProperty({ type: AmountView }) transactionAmount!: AmountView;
  @ApiPropertyOptional() creditorName?: string;
  @ApiPropertyOptional({ type: AccountRefView }) creditorAccount?: AccountRefView;
  @ApiPropertyOptional() debtorName?: string;
  @ApiPropertyOptional({ type: AccountRefView }) debtorAccount?: AccountRefView;
  @ApiPropertyOptional() remittanceInformationUnstructured?: string;
}

export class TransactionListView {
  @ApiProperty({ type: [TransactionView] }) booked!: TransactionView[];
  @ApiProperty({ type: [TransactionView] }) pending!: TransactionView[];
}

export class TransactionsView extends DataEnvelope {
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty({ format: 'date' }) dateFrom!: string;
  @ApiProperty({ format: 'date' }) dateTo!: string;
  @ApiProperty({ enum: ['booked', 'pending', 'both'] }) bookingStatus!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Transactions in the range; page through them with limit and offset' }) total!: number;
  @ApiProperty({ type: 'integer', minimum: 1 }) limit!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) offset!: number;
  @ApiProperty({ type: TransactionListView }) transactions!: TransactionListView;
}

const opt = <K extends string, V>(key: K, value: V | null | undefined): Partial<Record<K, V>> =>
  value === null || value === undefined ? {} : ({ [key]: value } as Record<K, V>);

export function toAccountView(a: StoredAccount): AccountView {
  return {
    id: a.id,
    ...opt('iban', a.iban),
    ...opt('bban', a.bban),
    ...opt('maskedPan', a.maskedPan),
    currency: a.currency,
    ...opt('name', a.name),
    ...opt('product', a.product),
    ...opt('cashAccountType', a.cashAccountType),
    ...opt('ownerName', a.ownerName),
    ...opt('bic', a.bic),
  };
}

export function toBalanceView(b: StoredBalance): BalanceView {
  return {
    balanceType: b.balanceType,
    balanceAmount: { amount: b.amount, currency: b.currency },
    ...opt('referenceDate', b.referenceDate),
    ...opt('lastChangeDateTime', b.lastChangeDateTime?.toISOString()),
  };
}

export function toTransactionView(t: StoredTransaction): TransactionView {
  return {
    id: t.id,
    ...opt('transactionId', t.transactionId),
    ...opt('entryReference', t.entryReference),
    bookingStatus: t.bookingStatus,
    ...opt('bookingDate', t.bookingDate),
    ...opt('valueDate', t.valueDate),
    transactionAmount: { amount: t.amount, currency: t.currency },
    ...opt('creditorName', t.creditorName),
    ...(t.creditorIban ? { creditorAccount: { iban: t.creditorIban } } : {}),
    ...opt('debtorName', t.debtorName),
    ...(t.debtorIban ? { debtorAccount: { iban: t.debtorIban } } : {}),
    ...opt('remittanceInformationUnstructured', t.remittanceInformation),
  };
}
