import { Module } from '@nestjs/common';
import { HousekeepingTasks } from './housekeeping-tasks.js';
import { PollHandlers } from './poll-handlers.js';
import { PollQueue } from './poll-queue.store.js';

/**
 * The poll queue, below every module that polls a bank: AIS and PIS add and remove items in their
 * own transactions (`PollQueue.schedule` / `remove`) and register how each kind is polled
 * (`PollHandlers.register`); the scheduler on top claims due items and runs their handlers. This
 * module knows no consent or payment, so nothing here imports AIS, PIS or the scheduler. Periodic
 * work that is not a poll (expiry warnings) is registered the same way (`HousekeepingTasks`).
 */
@Module({ providers: [PollQueue, PollHandlers, HousekeepingTasks], exports: [PollQueue, PollHandlers, HousekeepingTasks] })
export class PollingModule {}
