import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSandboxCerts } from '../../src/sandbox/certs.js';

/** A throwaway TPP client certificate (the QWAC Flowe requires in production mode); small keys, as nothing connects with it. */
const qwac = generateSandboxCerts(mkdtempSync(join(tmpdir(), 'tpp-production-env-')), { keyBits: 1024 }).client;

/**
 * What `APP_MODE=production` needs to start: one bank (Flowe: https URLs, its client certificate and
 * subscription key), return URLs, a token-vault key and the identity provider's issuer and
 * audience. Tests add a key source (JWKS URL or public key).
 */
export const PRODUCTION_ENV = {
  APP_MODE: 'production',
  FRONTEND_RETURN_URLS: 'https://app.example.com/banks/done',
  BANKS: 'flowe',
  FLOWE_NAME: 'Flowe',
  FLOWE_ADAPTER: 'flowe',
  FLOWE_SERVICES: 'ais,pis',
  FLOWE_AUTHORIZE_URL: 'https://idp.example/oauth2/v2.0/authorize',
  FLOWE_TOKEN_URL: 'https://idp.example/oauth2/v2.0/token',
  FLOWE_AIS_BASE_URL: 'https://api.example/openbankingais/v1',
  FLOWE_PIS_BASE_URL: 'https://api.example/openbankingpis/v1',
  FLOWE_CLIENT_ID: 'client',
  FLOWE_CLIENT_SECRET: 'client-secret',
  FLOWE_SCOPES_AIS: 'https://idp.example/aisp',
  FLOWE_SCOPES_PIS: 'https://idp.example/pisp',
  FLOWE_TLS_CERT_FILE: qwac.certFile,
  FLOWE_TLS_KEY_FILE: qwac.keyFile,
  FLOWE_SUBSCRIPTION_KEY_HEADER: 'PO-APIKey',
  FLOWE_SUBSCRIPTION_KEY: 'production-test-subscription-key',
  TOKEN_VAULT_KEYS: `production-test:${randomBytes(32).toString('base64')}`,
  AUTH_ISSUER: 'https://login.tpp.example/',
  AUTH_AUDIENCE: 'tpp-bff-api',
} as const;
