import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** The process's Prometheus registry: default process metrics plus what each module registers. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP requests handled by the BFF',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** Incremented by the database layer (QueryCountingLogger): statements, i.e. round trips, to PostgreSQL. */
  readonly dbQueries = new Counter({
    name: 'db_queries_total',
    help: 'SQL statements sent to PostgreSQL, each one a round trip (BEGIN and COMMIT included)',
    registers: [this.registry],
  });

  constructor() {
    this.registry.setDefaultLabels({ service: 'tpp-bff' });
    collectDefaultMetrics({ register: this.registry });
  }
}
