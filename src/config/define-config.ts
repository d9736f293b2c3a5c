import { getConfigToken, registerAs, type ConfigFactory, type ConfigObject } from '@nestjs/config';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * A configuration problem found at start-up. The message names the variable and the rule it
 * breaks, never the value (which may be a secret).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * One typed, validated configuration namespace. `parse` is pure (env in, typed config out), so
 * `main.ts` can run every namespace before anything starts and fail with one clear line, and tests
 * can build an app from an explicit env map instead of mutating `process.env`.
 */
export interface ConfigNamespace<T> {
  readonly token: string;
  /** DI token: `@Inject(appConfig.KEY) cfg: ConfigOf<typeof appConfig>`. */
  readonly KEY: string;
  parse(env: Env): T;
  load(env: Env): ConfigFactory;
}

export type ConfigOf<N> = N extends ConfigNamespace<infer T> ? T : never;

export function defineConfig<T>(token: string, parse: (env: Env) => T): ConfigNamespace<T> {
  return {
    token,
    KEY: getConfigToken(token),
    parse,
    load: (env) => registerAs(token, () => parse(env) as ConfigObject),
  };
}

/** Empty strings count as unset, so `FOO=` in an env file falls back to the default. */
export function pickEnv(env: Env, names: readonly string[], prefix = ''): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = env[prefix + name];
    if (value !== undefined && value.trim() !== '') picked[name] = value.trim();
  }
  return picked;
}

/**
 * Validates env variables with a class-validator schema class. Property names are the variable
 * names (without `prefix`), so class-validator's messages read "PORT must be an integer number".
 */
export function validateEnv<T extends object>(schema: new () => T, raw: Record<string, string>, prefix = ''): T {
  const instance = plainToInstance(schema, raw, { exposeDefaultValues: true });
  const errors = validateSync(instance, { forbidUnknownValues: true });
  if (errors.length > 0) {
    const [error] = errors;
    const message = firstMessage(error);
    throw new ConfigError(message.startsWith(`${error.property} `) ? `${prefix}${message}` : `${prefix}${error.property}: ${message}`);
  }
  return instance;
}

function firstMessage(error: ValidationError): string {
  const constraint = Object.values(error.constraints ?? {})[0];
  if (constraint) return constraint;
  const child = error.children?.[0];
  return child ? firstMessage(child) : `${error.property} is invalid`;
}
