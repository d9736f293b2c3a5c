import { createHash } from 'node:crypto';
import type { Profile } from '../config.js';
import { createPrng } from './prng.js';
import { italianIban, lithuanianIban } from './ibans.js';
import { generateTransactions, type Counterparty, type StaticTransaction } from './transactions.js';

/** Every sandbox PSU logs in with these (the demo page and docs/sandbox.md show them). */
export const SANDBOX_PASSWORD = 'sandbox';
export const SANDBOX_OTP = '123456';

/** A ConnectPay "Person" / a Flowe app user. */
export interface SandboxPerson {
  readonly username: string;
  readonly fullName: string;
}

/** ConnectPay: the entity that holds accounts; a PSU is one (Person, Customer) pair. Flowe: one per person. */
export interface SandboxCustomer {
  readonly id: string;
  readonly profile: Profile;
  readonly username: string;
  readonly name: string;
  readonly kind: 'personal' | 'corporate';
}

export interface SandboxAccount {
  readonly resourceId: string;
  readonly profile: Profile;
  readonly customerId: string;
  readonly iban: string;
  readonly currency: 'EUR';
  readonly name: string;
  readonly product: string;
  readonly cashAccountType: 'CACC' | 'SVGS';
  readonly usage: 'PRIV' | 'ORGA';
  readonly ownerName: string;
  readonly bic: string;
  /** closingBooked at generation time, before any sandbox payment. */
  readonly closingBookedCents: number;
  /** Newest first. */
  readonly transactions: readonly StaticTransaction[];
}

export interface SandboxData {
  readonly persons: readonly SandboxPerson[];
  readonly customers: readonly SandboxCustomer[];
  readonly accounts: readonly SandboxAccount[];
}

// Fictitious bank codes: ConnectPay accounts are LT IBANs, Flowe accounts IT IBANs (checksums valid).
const CONNECTPAY_BANK_CODE = '32500';
const CONNECTPAY_BIC = 'SBXCLT21';
const FLOWE_ABI = '36772';
const FLOWE_CAB = '01600';
const FLOWE_BIC = 'SBXFIT21';

interface AccountSpec {
  readonly profile: Profile;
  readonly customerId: string;
  readonly accountNumber: string;
  readonly name: string;
  readonly product: string;
  readonly cashAccountType: 'CACC' | 'SVGS';
  readonly closingBookedCents: number;
  readonly booked: number;
  readonly pending: number;
}

const PERSONS: SandboxPerson[] = [
  { username: 'alice', fullName: 'Alice Rossi' },
  { username: 'bob', fullName: 'Bob Bianchi' },
  // Three Flowe accounts: one consent's unattended budget must stretch over several accounts.
  { username: 'carol', fullName: 'Carla Conti' },
];

const CUSTOMERS: SandboxCustomer[] = [
  { id: 'cp-alice-personal', profile: 'connectpay', username: 'alice', name: 'Alice Rossi', kind: 'personal' },
  { id: 'cp-alice-corporate', profile: 'connectpay', username: 'alice', name: 'Rossi Digital UAB', kind: 'corporate' },
  { id: 'cp-bob-personal', profile: 'connectpay', username: 'bob', name: 'Bob Bianchi', kind: 'personal' },
  { id: 'fl-alice', profile: 'flowe', username: 'alice', name: 'Alice Rossi', kind: 'personal' },
  { id: 'fl-bob', profile: 'flowe', username: 'bob', name: 'Bob Bianchi', kind: 'personal' },
  { id: 'fl-carol', profile: 'flowe', username: 'carol', name: 'Carla Conti', kind: 'personal' },
];

const ACCOUNTS: AccountSpec[] = [
  {
    profile: 'connectpay',
    customerId: 'cp-alice-personal',
    accountNumber: '10000000101',
    name: 'Everyday account',
    product: 'Personal EUR account',
    cashAccountType: 'CACC',
    closingBookedCents: 234_567,
    booked: 300,
    pending: 4,
  },
  {
    profile: 'connectpay',
    customerId: 'cp-alice-personal',
    accountNumber: '10000000102',
    name: 'Savings',
    product: 'Personal savings account',
    cashAccountType: 'SVGS',
    closingBookedCents: 1_025_000,
    booked: 24,
    pending: 0,
  },
  {
    profile: 'connectpay',
    customerId: 'cp-alice-corporate',
    accountNumber: '20000000201',
    name: 'Business account',
    product: 'Business EUR account',
    cashAccountType: 'CACC',
    closingBookedCents: 4_812_035,
    booked: 300,
    pending: 5,
  },
  {
    profile: 'connectpay',
    customerId: 'cp-bob-personal',
    accountNumber: '30000000301',
    name: 'Everyday account',
    product: 'Personal EUR account',
    cashAccountType: 'CACC',
    closingBookedCents: 81_240,
    booked: 260,
    pending: 3,
  },
  {
    profile: 'flowe',
    customerId: 'fl-alice',
    accountNumber: '000000410001',
    name: 'Conto Flowe',
    product: 'Flowe Base',
    cashAccountType: 'CACC',
    closingBookedCents: 153_210,
    booked: 300,
    pending: 4,
  },
  {
    profile: 'flowe',
    customerId: 'fl-bob',
    accountNumber: '000000420002',
    name: 'Conto Flowe',
    product: 'Flowe Base',
    cashAccountType: 'CACC',
    closingBookedCents: 27_595,
    booked: 280,
    pending: 2,
  },
  {
    profile: 'flowe',
    customerId: 'fl-carol',
    accountNumber: '000000430003',
    name: 'Conto Flowe',
    product: 'Flowe Base',
    cashAccountType: 'CACC',
    closingBookedCents: 98_430,
    booked: 240,
    pending: 3,
  },
  {
    profile: 'flowe',
    customerId: 'fl-carol',
    accountNumber: '000000430004',
    name: 'Conto Flowe Plus',
    product: 'Flowe Plus',
    cashAccountType: 'CACC',
    closingBookedCents: 412_000,
    booked: 120,
    pending: 1,
  },
  {
    profile: 'flowe',
    customerId: 'fl-carol',
    accountNumber: '000000430005',
    name: 'Salvadanaio',
    product: 'Flowe Savings',
    cashAccountType: 'SVGS',
    closingBookedCents: 1_500_000,
    booked: 30,
    pending: 0,
  },
];

const LT_MERCHANTS = ['Maxima LT', 'Rimi Lietuva', 'Bolt Operations', 'Telia Lietuva', 'Ignitis', 'Wolt LT', 'Vilniaus Vandenys', 'Spotify AB'];
const IT_MERCHANTS = ['Esselunga', 'Coop Italia', 'Trenitalia', 'Enel Energia', 'TIM', 'Glovo Italia', 'Amazon EU', 'Netflix International'];

/** Builds the deterministic demo data relative to `today` (the sandbox clock's date at start). */
export function buildSandboxData(today: string): SandboxData {
  const accounts = ACCOUNTS.map((spec) => buildAccount(spec, today));
  return { persons: PERSONS, customers: CUSTOMERS, accounts };
}

function buildAccount(spec: AccountSpec, today: string): SandboxAccount {
  const customer = CUSTOMERS.find((c) => c.id === spec.customerId)!;
  const connectpay = spec.profile === 'connectpay';
  const iban = connectpay ? lithuanianIban(CONNECTPAY_BANK_CODE, spec.accountNumber) : italianIban(FLOWE_ABI, FLOWE_CAB, spec.accountNumber);
  const resourceId = opaqueId(spec.profile, iban);
  const prng = createPrng(iban);
  const merchants: Counterparty[] = (connectpay ? LT_MERCHANTS : IT_MERCHANTS).map((name, i) => ({
    name,
    iban: connectpay ? lithuanianIban('73000', String(4_000_000 + i * 7919)) : italianIban('03069', '09606', String(100_000 + i * 7919)),
  }));
  const transactions = generateTransactions(
    {
      idPrefix: resourceId.slice(0, 12),
      today,
      booked: spec.booked,
      pending: spec.pending,
      ...cashFlows(customer, spec.cashAccountType, merchants, connectpay),
      merchants,
    },
    prng,
  );
  return {
    resourceId,
    profile: spec.profile,
    customerId: spec.customerId,
    iban,
    currency: 'EUR',
    name: spec.name,
    product: spec.product,
    cashAccountType: spec.cashAccountType,
    usage: customer.kind === 'corporate' ? 'ORGA' : 'PRIV',
    ownerName: customer.name,
    bic: connectpay ? CONNECTPAY_BIC : FLOWE_BIC,
    closingBookedCents: spec.closingBookedCents,
    transactions,
  };
}

/** Monthly income and fixed cost that make each account's history look like what it is. */
function cashFlows(customer: SandboxCustomer, type: 'CACC' | 'SVGS', merchants: Counterparty[], connectpay: boolean) {
  if (customer.kind === 'corporate') {
    return {
      income: { from: merchants[2]!, cents: 1_250_000, text: 'Invoice payment' },
      fixedCost: { to: merchants[4]!, cents: 180_000, text: 'Office rent' },
    };
  }
  if (type === 'SVGS') {
    return {
      income: { from: { name: customer.name, iban: merchants[0]!.iban }, cents: 50_000, text: 'Monthly savings' },
      fixedCost: { to: merchants[3]!, cents: 150, text: 'Account fee' },
    };
  }
  return {
    income: { from: { name: connectpay ? 'Baltic Software UAB' : 'Milano Design Srl', iban: merchants[0]!.iban }, cents: 285_000, text: 'Salary' },
    fixedCost: { to: merchants[3]!, cents: 90_000, text: 'Rent' },
  };
}

/** Stable, opaque account ids (the same on every start, so demos and tests can keep them). */
function opaqueId(profile: Profile, iban: string): string {
  const hex = createHash('sha256').update(`${profile}:${iban}`).digest('hex');
  return profile === 'connectpay'
    ? `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
    : `ACC${hex.slice(0, 13).toUpperCase()}`;
}
