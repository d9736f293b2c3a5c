import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError } from '../../src/config/define-config.js';
import { opsConfig } from '../../src/config/ops.config.js';

const TOKEN = 'canary-ops-token-0123456789abcdef0123';

function problems(env: Record<string, string>): readonly string[] {
  try {
    opsConfig.parse(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('ops configuration', () => {
  it('keeps the ops surface open on the main port in sandbox mode, and never public in production mode', () => {
    expect(opsConfig.parse({})).toEqual({ mainPort: 'open' });
    expect(opsConfig.parse({ APP_MODE: 'production' })).toEqual({ mainPort: 'closed' });
    expect(opsConfig.parse({ APP_MODE: 'production', OPS_TOKEN: TOKEN })).toMatchObject({ mainPort: 'token', token: TOKEN });
    expect(opsConfig.parse({ APP_MODE: 'production', OPS_PORT: '9464' })).toEqual({ mainPort: 'closed', listener: { port: 9464, host: '0.0.0.0' } });
    expect(opsConfig.parse({ APP_MODE: 'production', OPS_PORT: '9464', OPS_HOST: '10.0.0.5', OPS_TOKEN: TOKEN })).toMatchObject({
      mainPort: 'closed',
      listener: { port: 9464, host: '10.0.0.5' },
    });
  });

  it('reads the token from a file and never prints it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tpp-ops-'));
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    const config = opsConfig.parse({ APP_MODE: 'production', OPS_TOKEN_FILE: join(dir, 'token') });
    expect(config.token).toBe(TOKEN);
    expect(JSON.stringify(config) + inspect(config)).not.toContain(TOKEN);
  });

  it('refuses a short token, OPS_PORT equal to PORT, and a bad port, naming each variable but no value', () => {
    expect(problems({ OPS_TOKEN: 'canary-short' })).toEqual(['OPS_TOKEN must be at least 32 characters (e.g. openssl rand -hex 32)']);
    expect(problems({ OPS_PORT: '3000' })).toEqual(['OPS_PORT must differ from PORT']);
    expect(problems({ OPS_PORT: 'ninety' })).toEqual(['OPS_PORT must be an integer between 1 and 65535']);
    expect(problems({ OPS_TOKEN: TOKEN, OPS_TOKEN_FILE: '/x' })).toEqual(['OPS_TOKEN and OPS_TOKEN_FILE must not both be set']);
    expect(JSON.stringify(problems({ OPS_TOKEN: 'canary-short' }))).not.toContain('canary');
  });
});
