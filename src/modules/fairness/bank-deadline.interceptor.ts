import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { withDeadline } from '../../aspsp/http/deadline.js';
import type { ConfigOf } from '../../config/define-config.js';
import { fairnessConfig } from '../../config/fairness.config.js';

/**
 * Gives every API request one deadline for its bank work (API_BANK_DEADLINE_MS from arrival):
 * waiting for the user's share of bank calls, token refreshes, the calls and their retries all end
 * by it, so no request outlives it by more than the time to answer. The handler runs in the
 * deadline's async context (Nest binds the handler to the context `handle()` is called in).
 */
@Injectable()
export class BankDeadlineInterceptor implements NestInterceptor {
  constructor(@Inject(fairnessConfig.KEY) private readonly config: ConfigOf<typeof fairnessConfig>) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    return withDeadline(Date.now() + this.config.apiBankDeadlineMs, () => next.handle());
  }
}
