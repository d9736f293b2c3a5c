import { Global, Module } from '@nestjs/common';
import { PollQueue } from './poll-queue.service.js';

@Global()
@Module({ providers: [PollQueue], exports: [PollQueue] })
export class SchedulerModule {}
