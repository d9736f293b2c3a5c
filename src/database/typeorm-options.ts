import type { DataSourceOptions, EntitySchema } from 'typeorm';
import { MIGRATIONS } from './migrations/index.js';
import { SnakeNamingStrategy } from './snake-naming.strategy.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for entity classes
type EntityTarget = Function | string | EntitySchema;

/**
 * The one place TypeORM is configured, shared by the app, the migration CLI and the tests.
 * Schema changes go through migrations only; `synchronize` stays off. Entities are not listed
 * here: the app registers each module's own (`TypeOrmModule.forFeature` + `autoLoadEntities`), so
 * this layer knows no module; a standalone DataSource (a CLI, a test) passes the few it uses.
 */
export function typeormOptions(url: string, poolMax = 10, entities: EntityTarget[] = []): DataSourceOptions {
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
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      application_name: 'tpp-bff',
    },
  };
}
