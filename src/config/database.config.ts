import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { defineConfig, pickEnv, validateEnv } from './define-config.js';
import { ToBool, ToInt } from './transforms.js';

class DatabaseEnv {
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  /** Embedded PostgreSQL (used when DATABASE_URL is unset) never takes 5432, where a system one may listen. */
  @ToInt()
  @IsInt()
  @Min(1024)
  @Max(65535)
  EMBEDDED_PG_PORT = 54329;

  @IsString()
  EMBEDDED_PG_DIR = '.data/postgres';

  @ToInt()
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_MAX = 10;

  @ToBool()
  @IsBoolean()
  DB_MIGRATIONS_RUN = true;
}

export interface DatabaseConfig {
  url?: string;
  embedded: { port: number; dir: string };
  poolMax: number;
  migrationsRun: boolean;
}

export const databaseConfig = defineConfig('database', (env): DatabaseConfig => {
  const raw = validateEnv(DatabaseEnv, pickEnv(env, Object.keys(new DatabaseEnv()).concat('DATABASE_URL')));
  return {
    url: raw.DATABASE_URL,
    embedded: { port: raw.EMBEDDED_PG_PORT, dir: raw.EMBEDDED_PG_DIR },
    poolMax: raw.DB_POOL_MAX,
    migrationsRun: raw.DB_MIGRATIONS_RUN,
  };
});
