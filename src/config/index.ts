import { appBasics, appConfig } from './app.config.js';
import { authConfig } from './auth.config.js';
import { banksConfig } from './banks.config.js';
import { databaseConfig } from './database.config.js';
import { eventsConfig } from './events.config.js';
import { fairnessConfig } from './fairness.config.js';
import { pisConfig } from './pis.config.js';
import { schedulerConfig } from './scheduler.config.js';
import { opsConfig } from './ops.config.js';
import { vaultConfig } from './vault.config.js';
import { ConfigProblems, type ConfigNamespace, type Env } from './define-config.js';

/** Every namespace, in the order they are validated at start-up. */
export const CONFIG_NAMESPACES: readonly ConfigNamespace<unknown>[] = [
  appConfig,
  databaseConfig,
  banksConfig,
  vaultConfig,
  authConfig,
  schedulerConfig,
  eventsConfig,
  pisConfig,
  fairnessConfig,
  opsConfig,
];

/**
 * Validates the whole configuration and throws one ConfigError listing every problem of every
 * namespace (each once, in namespace order), so one start-up shows everything there is to fix.
 */
export function validateConfiguration(env: Env): void {
  const problems = new ConfigProblems();
  for (const namespace of CONFIG_NAMESPACES) problems.collect(() => namespace.parse(env));
  serviceRules(env, problems);
  problems.throwIfAny();
}

/**
 * Rules for running the service itself, beyond what each namespace checks: the apps that tests
 * build from the same namespaces bring their own database.
 */
function serviceRules(env: Env, problems: ConfigProblems): void {
  // An embedded PostgreSQL keeps its data in the container or checkout: fine for a demo, a loss of
  // every bank connection on the next deployment in production.
  if (appBasics(env).mode === 'production' && !env.DATABASE_URL?.trim() && !env.DATABASE_URL_FILE?.trim()) {
    problems.add('DATABASE_URL (or DATABASE_URL_FILE) is required in production mode (the embedded PostgreSQL is for development)', 'DATABASE_URL');
  }
}

export { appConfig, authConfig, banksConfig, databaseConfig, vaultConfig, schedulerConfig, eventsConfig, pisConfig, fairnessConfig, opsConfig };
export type { Env };
