import type { DataSourceOptions, EntitySchema } from 'typeorm';
import type { DatabaseLimits } from '../config/database.config.js';
import { DeadlineClient } from './deadline-client.js';
import { MIGRATIONS } from './migrations/index.js';
import { SnakeNamingStrategy } from './snake-naming.strategy.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for entity classes
type EntityTarget = Function | string | EntitySchema;

/**
 * The one place TypeORM is configured, shared by the app, the migration CLI and the tests.
 * Schema changes go through migrations only; `synchronize` stays off. Entities are not listed
 * here: the app registers each module's own (`TypeOrmModule.forFeature` + `autoLoadEntities`), so
 * this layer knows no module; a standalone DataSource (a CLI, a test) passes the few it uses.
 *
 * `limits` bound every wait on the server (the service passes them; migrations and CLIs, which
 * may legitimately run long statements, do not): the server's statement and idle-in-transaction
 * timeouts, a client-side query timeout that also holds when the server is frozen or unreachable
 * (its connection is then closed, see DeadlineClient), the connect timeout (also the longest wait
 * for a free pooled connection) and TCP keepalive.
 */
export function typeormOptions(url: string, poolMax = 10, entities: EntityTarget[] = [], limits?: DatabaseLimits): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    logging: false,
    extra: {
      max: poolMax,
      connectionTimeoutMillis: limits?.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
      application_name: 'tpp-bff',
      ...(limits
        ? {
            Client: DeadlineClient,
            statement_timeout: limits.statementTimeoutMs,
            query_timeout: limits.queryTimeoutMs,
            idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
            keepAlive: limits.keepAliveMs > 0,
            keepAliveInitialDelayMillis: limits.keepAliveMs,
          }
        : {}),
    },
  };
}
