import { Logger, type LoggerService } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { vaultConfig } from '../../src/config/vault.config.js';
import { TokenVaultModule } from '../../src/modules/token-vault/token-vault.module.js';
import { TokenVaultService, VaultError } from '../../src/modules/token-vault/token-vault.service.js';
import { CANARY_ACCESS, makeKey } from '../support/vault-keys.js';

const CONNECTION = '3c1f0d4e-2b6a-4f8e-9d7c-5a4b3c2d1e0f';

async function vaultFor(env: Record<string, string>) {
  const warnings: string[] = [];
  const logger: LoggerService = { log: () => undefined, error: () => undefined, warn: (m: unknown) => warnings.push(String(m)) };
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [vaultConfig.load(env)] }), TokenVaultModule],
  }).compile();
  moduleRef.useLogger(logger);
  await moduleRef.init();
  return { vault: moduleRef.get(TokenVaultService), warnings, close: () => moduleRef.close() };
}

describe('TokenVaultModule', () => {
  afterEach(() => Logger.overrideLogger(false));

  it('injects the configured keys and seals under the first', async () => {
    const [k2, k1] = [makeKey('k2'), makeKey('k1')];
    const { vault, warnings, close } = await vaultFor({ TOKEN_VAULT_KEYS: `${k2.env},${k1.env}` });
    try {
      const binding = { connectionId: CONNECTION, userId: 'user-1', aspspId: 'flowe', field: 'access_token' } as const;
      const envelope = vault.seal(CANARY_ACCESS, binding);
      expect(vault.currentKeyId).toBe('k2');
      expect(vault.keyIdOf(envelope)).toBe('k2');
      expect(vault.needsRotation(envelope)).toBe(false);
      expect(vault.open(envelope, binding)).toBe(CANARY_ACCESS);
      expect(() => vault.open(envelope, { ...binding, field: 'refresh_token' })).toThrow(VaultError);
      expect(warnings).toEqual([]);
    } finally {
      await close();
    }
  });

  it('warns once at start-up when running on the sandbox development key', async () => {
    const { vault, warnings, close } = await vaultFor({});
    try {
      expect(vault.currentKeyId).toBe('sandbox-dev');
      expect(warnings).toEqual([expect.stringMatching(/TOKEN_VAULT_KEYS is unset.*development key/)]);
    } finally {
      await close();
    }
  });
});
