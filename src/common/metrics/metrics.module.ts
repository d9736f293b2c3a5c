import { Global, Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { HttpMetricsMiddleware } from './http-metrics.middleware.js';
import { MetricsController } from './metrics.controller.js';
import { BankMetrics } from './bank.metrics.js';
import { MetricsService } from './metrics.service.js';
import { SecurityEvents } from './security-events.js';

@Global()
@Module({ controllers: [MetricsController], providers: [MetricsService, BankMetrics, SecurityEvents], exports: [MetricsService, BankMetrics, SecurityEvents] })
export class MetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*splat');
  }
}
