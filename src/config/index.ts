import { appConfig } from './app.config.js';
import { banksConfig } from './banks.config.js';
import { databaseConfig } from './database.config.js';
import type { ConfigNamespace, Env } from './define-config.js';

/** Every namespace, in the order they are validated at start-up. */
export const CONFIG_NAMESPACES: readonly ConfigNamespace<unknown>[] = [appConfig, databaseConfig, banksConfig];

/** Validates the whole configuration; throws the first ConfigError. */
export function validateConfiguration(env: Env): void {
  for (const namespace of CONFIG_NAMESPACES) namespace.parse(env);
}

export { appConfig, banksConfig, databaseConfig };
export type { Env };
