import { Injectable, Logger } from '@nestjs/common';
import type { PollKind } from './poll-queue.store.js';

/** What a handler is told about the item it polls. */
export interface PollContext {
  readonly kind: PollKind;
  /** The local consent or payment id (for `ais-refresh`: the consent id). */
  readonly resourceId: string;
  readonly aspspId: string;
  /** Polls done before this one. */
  readonly attempts: number;
  readonly startedAt: Date;
  /**
   * Consents: the item is past its deadline (still `received` after SCHEDULER_CONSENT_DEADLINE_SECONDS
   * or the deadline the AIS service set): the handler must settle it locally (expired, reconsent
   * required) and answer `final: true`. Payments: only informative (they are then polled slowly).
   */
  readonly deadlinePassed: boolean;
  /** The status the previous poll returned, if any. */
  readonly lastStatus: string | null;
}

/** What a handler answers after asking the bank once and recording any change (with its outbox event). */
export interface PollResult {
  /** No more polling: the item is removed (the handler may already have removed it itself). */
  readonly final: boolean;
  /** The status now (consent status, ISO 20022 transaction status, or an AIS-refresh outcome). */
  readonly status: string;
  /** Poll no earlier than this (e.g. the next unit of an AIS budget); the scheduler never polls sooner than its own schedule either. */
  readonly nextPollAt?: Date;
}

/**
 * Polls one item. Throws `BankError` for bank failures (its `kind` drives the backoff), or an
 * `AppError` `not_found` when the resource no longer exists (the item is then dropped).
 */
export type PollHandler = (context: PollContext) => Promise<PollResult>;

/**
 * Which service polls which kind of item. The AIS and PIS modules register theirs at start-up
 * (`onModuleInit`); the worker only claims kinds that have a handler, so items of a kind nobody
 * handles wait instead of failing.
 */
@Injectable()
export class PollHandlers {
  private readonly logger = new Logger(PollHandlers.name);
  private readonly handlers = new Map<PollKind, PollHandler>();

  /** Registers (or replaces: the last registration wins) the handler of a kind. */
  register(kind: PollKind, handler: PollHandler): void {
    if (this.handlers.has(kind)) this.logger.warn({ kind }, 'poll handler replaced');
    this.handlers.set(kind, handler);
  }

  get(kind: PollKind): PollHandler | undefined {
    return this.handlers.get(kind);
  }

  kinds(): PollKind[] {
    return [...this.handlers.keys()];
  }
}
