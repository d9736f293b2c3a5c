import type { Logger } from 'typeorm';

/**
 * A TypeORM logger that logs nothing (query logging stays off, as `logging: false` had it) and
 * counts every statement sent to PostgreSQL. TypeORM calls `logQuery` once per statement,
 * including BEGIN, COMMIT and ROLLBACK, so the count is the number of database round trips:
 * `db_queries_total` per request is what `npm run bench` reports and a review can hold to a budget.
 */
export class QueryCountingLogger implements Logger {
  constructor(private readonly onQuery: () => void) {}

  logQuery(): void {
    this.onQuery();
  }

  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
