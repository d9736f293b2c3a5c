import { Injectable, Logger } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from './metrics.service.js';

/**
 * Things that only happen when someone tries something: a login whose code the bank granted for
 * another login, bank accounts that turn up under a second user, a forged login confirmation.
 * Each is one `security` log line (ids and kinds only, never a token, code or IBAN) and one count
 * of `security_events_total{event,aspsp}`, which an alert can watch.
 */
export type SecurityEvent = 'login_scope_mismatch' | 'bank_identity_conflict' | 'login_confirmation_refused';

@Injectable()
export class SecurityEvents {
  private readonly logger = new Logger('Security');
  private readonly counter: Counter<'event' | 'aspsp'>;

  constructor(metrics: MetricsService) {
    this.counter = new Counter({
      name: 'security_events_total',
      help: 'Refusals that point at an attack: login_scope_mismatch, bank_identity_conflict, login_confirmation_refused',
      labelNames: ['event', 'aspsp'],
      registers: [metrics.registry],
    });
  }

  record(event: SecurityEvent, aspspId: string, fields: Record<string, string | number | undefined> = {}, message = 'security event'): void {
    this.counter.inc({ event, aspsp: aspspId });
    this.logger.warn({ security: true, event, aspspId, ...fields }, message);
  }
}
