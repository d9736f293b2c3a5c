import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { databaseConfig } from '../config/index.js';
import { ConfigError } from '../config/define-config.js';
import { vaultConfig } from '../config/vault.config.js';
import { startEmbeddedPostgres } from '../database/embedded-postgres.js';
import { typeormOptions } from '../database/typeorm-options.js';
import { Connection } from '../modules/connections/connection.entity.js';
import { ConnectionsStore } from '../modules/connections/connections.store.js';
import { OutboxStore } from '../modules/events/outbox.store.js';
import { rotateVault } from '../modules/connections/vault-rotation.js';
import { TokenVaultService } from '../modules/token-vault/token-vault.service.js';

/**
 * `npm run vault:rotate`: re-encrypts every stored token under the first key of TOKEN_VAULT_KEYS
 * (DATABASE_URL, or the embedded database). Safe to run while the BFF serves and on several
 * machines at once. Exits 1 if any row could not be rotated; it is safe to run again.
 */
if (existsSync('.env')) process.loadEnvFile('.env');
let db: ReturnType<typeof databaseConfig.parse>;
let vault: TokenVaultService;
try {
  db = databaseConfig.parse(process.env);
  vault = new TokenVaultService(vaultConfig.parse(process.env));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`Configuration error: ${error.message}`);
  process.exit(1);
}

const embedded = db.url ? undefined : await startEmbeddedPostgres(db.embedded);
const dataSource = new DataSource(typeormOptions(db.url ?? embedded!.url, 2, [Connection]));
let exitCode = 1;
try {
  await dataSource.initialize();
  const counts = await rotateVault(new ConnectionsStore(dataSource, new OutboxStore(dataSource)), vault);
  console.log(`Vault rotation to key "${vault.currentKeyId}": ${counts.rotated} rotated, ${counts.alreadyCurrent} already current, ${counts.failed} failed.`);
  exitCode = counts.failed > 0 ? 1 : 0;
} catch (error) {
  // The driver's message only: a query error object also carries the query parameters (ciphertexts).
  console.error(`Vault rotation stopped: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  if (dataSource.isInitialized) await dataSource.destroy();
  await embedded?.stop();
}
process.exitCode = exitCode;
