import { Injectable, Logger } from '@nestjs/common';

/** Periodic work a module asks the scheduler's housekeeping to run; `now` is the round's time. */
export type HousekeepingTask = (now: Date) => Promise<void>;

/**
 * Work that modules below the scheduler want done now and then (announcing expiring bank logins
 * and consents), registered at start-up like poll handlers: the scheduler's housekeeping runs
 * every task each round without importing the modules that own them. A failing task is logged and
 * does not stop the others.
 */
@Injectable()
export class HousekeepingTasks {
  private readonly logger = new Logger(HousekeepingTasks.name);
  private readonly tasks = new Map<string, HousekeepingTask>();

  register(name: string, task: HousekeepingTask): void {
    this.tasks.set(name, task);
  }

  async runAll(now: Date): Promise<void> {
    for (const [name, task] of this.tasks) {
      try {
        await task(now);
      } catch (error) {
        this.logger.warn({ task: name, error: error instanceof Error ? error.message : String(error) }, 'housekeeping task failed; next round tries again');
      }
    }
  }
}
