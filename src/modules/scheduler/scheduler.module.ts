import { Module } from '@nestjs/common';
import { AspspModule } from '../../aspsp/aspsp.module.js';
import { BankLoginModule } from '../bank-login/bank-login.module.js';
import { EventsModule } from '../events/events.module.js';
import { PollingModule } from '../polling/polling.module.js';
import { Housekeeping } from './housekeeping.service.js';
import { PollWorker } from './poll-worker.service.js';
import { SchedulerMetrics } from './scheduler.metrics.js';

/**
 * The top of the polling stack: `PollWorker` claims due poll items on every replica and runs the
 * handlers that AIS and PIS registered with the poll queue (`PollingModule`), and `Housekeeping`
 * asks the owners of expiring data to purge it. It imports neither AIS nor PIS: they depend on
 * the queue below, not on this worker.
 */
@Module({
  imports: [PollingModule, EventsModule, BankLoginModule, AspspModule],
  providers: [PollWorker, SchedulerMetrics, Housekeeping],
})
export class SchedulerModule {}
