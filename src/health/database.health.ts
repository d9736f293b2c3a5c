import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import type { ConfigOf } from '../config/define-config.js';
import { databaseConfig } from '../config/index.js';

/**
 * The database answers a trivial query within 2 s, or half the statement timeout when that is
 * shorter. Readiness must turn red before API requests start failing on the same database (they
 * wait up to DB_QUERY_TIMEOUT_MS), so a load balancer stops sending traffic first.
 */
@Injectable()
export class DatabaseHealthIndicator {
  private readonly timeoutMs: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly health: HealthIndicatorService,
    @Inject(databaseConfig.KEY) db: ConfigOf<typeof databaseConfig>,
  ) {
    this.timeoutMs = Math.min(2_000, db.limits.statementTimeoutMs / 2);
  }

  async check() {
    const indicator = this.health.check('database');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.dataSource.query('SELECT 1'),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), this.timeoutMs))),
      ]);
      return indicator.up();
    } catch {
      return indicator.down({ message: 'the database did not answer' });
    } finally {
      clearTimeout(timer);
    }
  }
}
