import { Injectable } from '@nestjs/common';
import type pg from 'pg';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { MetricsService } from '../common/metrics/metrics.service.js';

/** The counts pg-pool keeps about itself. */
type PoolCounts = Pick<pg.Pool, 'totalCount' | 'idleCount' | 'waitingCount'>;

/**
 * This replica's PostgreSQL pool, read from pg-pool at scrape time: connections in use and idle,
 * and requests waiting for one. Waiting requests with every connection in use is the pool (or the
 * database behind it) being the bottleneck; they fail after DB_CONNECT_TIMEOUT_MS.
 */
@Injectable()
export class DatabasePoolMetrics {
  constructor(dataSource: DataSource, metrics: MetricsService) {
    const pool = (): PoolCounts | undefined =>
      dataSource.isInitialized ? ((dataSource.driver as PostgresDriver).master as PoolCounts | undefined) : undefined;
    const registers = [metrics.registry];
    new Gauge({
      name: 'db_pool_connections',
      help: 'PostgreSQL connections of this replica by state (in_use, idle)',
      labelNames: ['state'],
      registers,
      collect() {
        const p = pool();
        this.set({ state: 'in_use' }, p ? p.totalCount - p.idleCount : 0);
        this.set({ state: 'idle' }, p ? p.idleCount : 0);
      },
    });
    new Gauge({
      name: 'db_pool_waiting',
      help: 'Requests of this replica waiting for a free PostgreSQL connection',
      registers,
      collect() {
        this.set(pool()?.waitingCount ?? 0);
      },
    });
  }
}
