import { Module } from '@nestjs/common';
import { AspspModule } from '../../aspsp/aspsp.module.js';
import { StatusPace } from './status-pace.js';
import { StatusReadStore } from './status-read.store.js';

/**
 * How often the banks are asked for a status, across every replica (`StatusPace`). Owns
 * `bank_status_reads` (`StatusReadStore`, not exported). AIS and PIS ask it before each status
 * request, on the user's path and the scheduler's.
 */
@Module({ imports: [AspspModule], providers: [StatusPace, StatusReadStore], exports: [StatusPace] })
export class BankPaceModule {}
