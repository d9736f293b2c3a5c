import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { appConfig } from '../../config/app.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { HousekeepingTasks } from '../polling/housekeeping-tasks.js';
import { ConnectionsStore } from './connections.store.js';

/**
 * Tells the user, once per bank login, that it ends within EXPIRY_WARNING_DAYS (`reauthBy`; Flowe:
 * 90 days after the login): a `connection.expiring` event, so the frontend can offer "log in again"
 * (`POST /connections/{id}/reauthorize`) before the bank starts refusing. Runs with housekeeping.
 */
@Injectable()
export class ConnectionExpiryWarnings implements OnModuleInit {
  private readonly logger = new Logger(ConnectionExpiryWarnings.name);

  constructor(
    private readonly store: ConnectionsStore,
    private readonly tasks: HousekeepingTasks,
    @Inject(appConfig.KEY) private readonly app: ConfigOf<typeof appConfig>,
  ) {}

  onModuleInit(): void {
    this.tasks.register('connection-expiry-warnings', (now) => this.announce(now));
  }

  async announce(now: Date): Promise<void> {
    const announced = await this.store.announceExpiring(now, new Date(now.getTime() + this.app.expiryWarningMs));
    if (announced > 0) this.logger.log({ announced }, 'bank logins about to end announced');
  }
}

/** True when a bank login ends within the warning window (or already has): the user may log in again now. */
export function expiresSoon(reauthBy: Date | null, warningMs: number, now = Date.now()): boolean {
  return reauthBy !== null && reauthBy.getTime() - now <= warningMs;
}
