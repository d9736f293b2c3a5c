import { IsOptional, IsString } from 'class-validator';
import { APP_MODES, type AppMode } from './app.config.js';
import { defineConfig, pickEnv, validateEnv } from './define-config.js';
import { valueOrFile } from './files.js';
import { Integer, OneOf } from './rules.js';

class OpsEnv {
  @OneOf(APP_MODES) APP_MODE: AppMode = 'sandbox';
  @Integer(1, 65535) PORT = 3000;
  /** A second listener that serves only the ops surface (metrics, API docs, health). */
  @IsOptional() @Integer(1, 65535) OPS_PORT?: number;
  @IsString() OPS_HOST = '0.0.0.0';
  /** A bearer token the ops surface requires (`Authorization: Bearer <OPS_TOKEN>`). */
  @IsOptional() @IsString() OPS_TOKEN?: string;
  @IsOptional() @IsString() OPS_TOKEN_FILE?: string;
}

/** How the main port treats the ops surface: served to anyone, only with the ops token, or not at all. */
export type MainPortOps = 'open' | 'token' | 'closed';

export interface OpsConfig {
  /** Where `/metrics`, `/docs` and `/docs-json` are served on the main port. */
  mainPort: MainPortOps;
  /** The ops listener, when OPS_PORT is set. */
  listener?: { port: number; host: string };
  /** Non-enumerable: logging or serialising the config never prints it. */
  readonly token?: string;
}

const MIN_TOKEN_LENGTH = 32;

/**
 * The ops surface: Prometheus `/metrics` and the OpenAPI document (`/docs`, `/docs-json`,
 * `/docs-yaml`). In sandbox mode it stays on the main port for anyone (the demo links to it). In
 * production mode it is not public: on the ops port when OPS_PORT is set (and the main port does
 * not serve it), else on the main port behind OPS_TOKEN, else not at all. OPS_TOKEN, when set, is
 * required wherever the surface is served. `/health/*` stays public on the main port.
 */
export const opsConfig = defineConfig('ops', (env, problems): OpsConfig => {
  const raw = validateEnv(OpsEnv, pickEnv(env, Object.keys(new OpsEnv()).concat('OPS_PORT', 'OPS_TOKEN', 'OPS_TOKEN_FILE')), problems);
  const token = valueOrFile(raw.OPS_TOKEN, raw.OPS_TOKEN_FILE, 'OPS_TOKEN', problems);
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH)
    problems.add(`OPS_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 32)`, 'OPS_TOKEN');
  if (raw.OPS_PORT !== undefined && raw.OPS_PORT === raw.PORT && !problems.isInvalid('OPS_PORT')) problems.add('OPS_PORT must differ from PORT', 'OPS_PORT');
  problems.throwIfAny();
  const config: OpsConfig = {
    mainPort: raw.APP_MODE === 'sandbox' ? 'open' : raw.OPS_PORT !== undefined ? 'closed' : token !== undefined ? 'token' : 'closed',
    ...(raw.OPS_PORT !== undefined ? { listener: { port: raw.OPS_PORT, host: raw.OPS_HOST } } : {}),
  };
  if (token !== undefined) Object.defineProperty(config, 'token', { value: token, enumerable: false });
  return config;
});
