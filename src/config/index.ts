import { appConfig } from './app.config.js';
import { authConfig } from './auth.config.js';
import { banksConfig } from './banks.config.js';
import { databaseConfig } from './database.config.js';
import { eventsConfig } from './events.config.js';
import { pisConfig } from './pis.config.js';
import { schedulerConfig } from './scheduler.config.js';
import { vaultConfig } from './vault.config.js';
import type { ConfigNamespace, Env } from './define-config.js';

/** Every namespace, in the order they are validated at start-up. */
export const CONFIG_NAMESPACES: readonly ConfigNamespace<unknown>[] = [appConfig, databaseConfig, banksConfig, vaultConfig, authConfig, schedulerConfig, eventsConfig, pisConfig];

/** Validates the whole configuration; throws the first ConfigError. */
export function validateConfiguration(env: Env): void {
  for (const namespace of CONFIG_NAMESPACES) namespace.parse(env);
}

export { appConfig, authConfig, banksConfig, databaseConfig, vaultConfig, schedulerConfig, eventsConfig, pisConfig };
export type { Env };
