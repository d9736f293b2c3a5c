import type { Profile } from '../config.js';
import { DEFAULT_MODES, ModeError, parseModes, type BankModes } from './bank-modes.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * `SANDBOX_<BANK>_<MODE>` variables, e.g. `SANDBOX_FLOWE_BUDGET_COUNTING=per_resource`,
 * `SANDBOX_FLOWE_CUTOFF_TIMES=10:00,14:30`, `SANDBOX_CONNECTPAY_REQUIRE_MTLS=true`. A bad value throws a
 * ModeError naming the variable (never a secret: modes hold none).
 */
export function modesFromEnv(env: Env, profile: Profile): Partial<BankModes> {
  const out: Partial<BankModes> = {};
  for (const [key, fallback] of Object.entries(DEFAULT_MODES[profile])) {
    const name = `SANDBOX_${profile.toUpperCase()}_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (typeof fallback === 'boolean')
      value = ['1', 'true', 'yes'].includes(raw.toLowerCase()) ? true : ['0', 'false', 'no'].includes(raw.toLowerCase()) ? false : raw;
    else if (typeof fallback === 'number') value = /^\d+$/.test(raw) ? Number(raw) : raw;
    else if (Array.isArray(fallback))
      value = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    try {
      Object.assign(out, parseModes({ [key]: value }));
    } catch (error) {
      throw new ModeError(`${name}: ${(error as Error).message}`);
    }
  }
  return out;
}
