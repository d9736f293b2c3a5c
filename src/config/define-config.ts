import { getConfigToken, registerAs, type ConfigFactory, type ConfigObject } from '@nestjs/config';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Configuration problems found at start-up, one line each. A line names the variable and says what
 * is expected, never the value (which may be a secret).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[]) {
    const list = typeof problems === 'string' ? [problems] : [...problems];
    super(list.join('\n'));
    this.problems = list;
  }
}

/**
 * Collects every problem of one validation run, so a start-up reports all of them at once instead
 * of one per restart. Rules add problems and go on; a check that cannot go on throws a ConfigError,
 * which `collect` records. Once a problem is recorded a schema's fields may hold invalid values, so
 * code that builds the typed config from them calls `throwIfAny()` first.
 */
export class ConfigProblems {
  private readonly found: string[] = [];
  private readonly invalid = new Set<string>();

  /** Records a problem; `variable` marks that variable as invalid (see `isInvalid`). */
  add(problem: string, variable?: string): void {
    if (!this.found.includes(problem)) this.found.push(problem);
    if (variable) this.invalid.add(variable);
  }

  /** Runs a check, recording the problems of a ConfigError it throws; other errors propagate. */
  collect<T>(check: () => T): T | undefined {
    try {
      return check();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) this.add(problem);
      return undefined;
    }
  }

  isInvalid(variable: string): boolean {
    return this.invalid.has(variable);
  }

  get list(): readonly string[] {
    return this.found;
  }

  throwIfAny(): void {
    if (this.found.length > 0) throw new ConfigError(this.found);
  }
}

/**
 * One typed, validated configuration namespace. `parse` is pure (env in, typed config out), so
 * `main.ts` can run every namespace before anything starts and list every problem at once, and tests
 * can build an app from an explicit env map instead of mutating `process.env`.
 */
export interface ConfigNamespace<T> {
  readonly token: string;
  /** DI token: `@Inject(appConfig.KEY) cfg: ConfigOf<typeof appConfig>`. */
  readonly KEY: string;
  /** Throws a ConfigError listing every problem of this namespace. */
  parse(env: Env): T;
  load(env: Env): ConfigFactory;
}

export type ConfigOf<N> = N extends ConfigNamespace<infer T> ? T : never;

export function defineConfig<T>(token: string, build: (env: Env, problems: ConfigProblems) => T): ConfigNamespace<T> {
  const parse = (env: Env): T => {
    const problems = new ConfigProblems();
    const config = problems.collect(() => build(env, problems));
    problems.throwIfAny();
    return config as T;
  };
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
 * Validates env variables with a schema class whose property names are the variable names (without
 * `prefix`). Every invalid variable adds one problem to `problems`: "<NAME> is required" when it is
 * unset and has no default, otherwise the rule's message ("PORT must be an integer between 1 and
 * 65535"). The instance is returned either way; see ConfigProblems for what that means.
 */
export function validateEnv<T extends object>(schema: new () => T, raw: Record<string, string>, problems: ConfigProblems, prefix = ''): T {
  const instance = plainToInstance(schema, raw, { exposeDefaultValues: true });
  for (const error of validateSync(instance, { forbidUnknownValues: true })) {
    const variable = `${prefix}${error.property}`;
    const unset = raw[error.property] === undefined && error.value === undefined;
    problems.add(unset ? `${variable} is required` : `${prefix}${describe(error)}`, variable);
  }
  return instance;
}

function describe(error: ValidationError): string {
  const constraint = Object.values(error.constraints ?? {})[0];
  const message = constraint ?? error.children?.map(describe)[0] ?? 'is invalid';
  return message.startsWith(`${error.property} `) ? message : `${error.property} ${message}`;
}
