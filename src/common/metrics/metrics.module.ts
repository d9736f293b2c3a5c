import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { BankMetrics } from './bank.metrics.js';
import { MetricsService } from './metrics.service.js';
import { SecurityEvents } from './security-events.js';

/** Request durations are observed by a hook of the HTTP pipeline (configure-app.ts, countRequests). */
@Global()
@Module({ controllers: [MetricsController], providers: [MetricsService, BankMetrics, SecurityEvents], exports: [MetricsService, BankMetrics, SecurityEvents] })
export class MetricsModule {}
