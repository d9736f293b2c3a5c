import type { MigrationInterface } from 'typeorm';
import { Connections1795300000000 } from './1795300000000-connections.js';
import { OutboxAndPolling1795300100000 } from './1795300100000-outbox-and-polling.js';
import { Ais1795300200000 } from './1795300200000-ais.js';
import { Pis1795300300000 } from './1795300300000-pis.js';
import { Scheduler1795300400000 } from './1795300400000-scheduler.js';
import { AisBudgetAndJournal1795300520000 } from './1795300520000-ais-budget-and-journal.js';
import { OutboxCommitOrder1795300561000 } from './1795300561000-outbox-commit-order.js';
import { PaymentTracking1795300562000 } from './1795300562000-payment-tracking.js';
import { PaymentReconciliation1795300563000 } from './1795300563000-payment-reconciliation.js';
import { BankPace1795300700000 } from './1795300700000-bank-pace.js';
import { LoginStartBinding1795310000000 } from './1795310000000-login-start-binding.js';
import { BankIdentities1795310100000 } from './1795310100000-bank-identities.js';
import { SandboxSigningKey1795310200000 } from './1795310200000-sandbox-signing-key.js';
import { ExpiryWarnings1795320500000 } from './1795320500000-expiry-warnings.js';
import { ConnectionExternalReference1795330000000 } from './1795330000000-connection-external-reference.js';
import { WebhookDeliveries1795330100000 } from './1795330100000-webhook-deliveries.js';

/** Migrations run in this order at start-up and by `npm run migration:run`. */
export const MIGRATIONS: (new () => MigrationInterface)[] = [
  Connections1795300000000,
  OutboxAndPolling1795300100000,
  Ais1795300200000,
  Pis1795300300000,
  Scheduler1795300400000,
  AisBudgetAndJournal1795300520000,
  OutboxCommitOrder1795300561000,
  PaymentTracking1795300562000,
  PaymentReconciliation1795300563000,
  BankPace1795300700000,
  LoginStartBinding1795310000000,
  BankIdentities1795310100000,
  SandboxSigningKey1795310200000,
  ExpiryWarnings1795320500000,
  ConnectionExternalReference1795330000000,
  WebhookDeliveries1795330100000,
];
