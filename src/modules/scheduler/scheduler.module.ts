import { Global, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { PollHandlers } from './poll-handlers.js';
import { PollQueue } from './poll-queue.service.js';
import { PollWorker } from './poll-worker.service.js';
import { SchedulerMetrics } from './scheduler.metrics.js';

/**
 * Status polling for consents, payments and unattended AIS refreshes. Other modules use
 * `PollQueue` (add or remove items in their own transactions) and `PollHandlers` (say how a kind
 * is polled); `PollWorker` does the rest on every replica.
 */
@Global()
@Module({
  imports: [ScheduleModule.forRoot()],
  providers: [PollQueue, PollHandlers, PollWorker, SchedulerMetrics],
  exports: [PollQueue, PollHandlers],
})
export class SchedulerModule {}
