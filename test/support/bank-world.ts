import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSandboxCerts, type PemPair, type SandboxCertificates } from '../../src/sandbox/certs.js';
import { createSandboxApp, type SandboxApp } from '../../src/sandbox/sandbox-app.js';
import type { SandboxOptions } from '../../src/sandbox/config.js';
import { BankTokensService } from '../../src/modules/connections/bank-tokens.service.js';
import { ConnectionsService } from '../../src/modules/connections/connections.service.js';
import { finishConnect, sandboxLogin, startConnect } from './bank-login.js';
import { startTestBff, type TestBff } from './bff.js';
import type { TestDatabase } from './database.js';

/*
 * The bank world every integration suite shares: the sandbox ASPSP and the real BFF pointed at it,
 * each in this process on its own loopback port, and users connected to a bank through the whole
 * login (BFF, sandbox login page, callback). As in production, the BFF talks to the banks over
 * mutual TLS: each bank's token and API calls go to that bank's own TLS listener, and the sandbox
 * refuses them without the TPP's client certificate. Only the browser-facing authorize page, the
 * PSU app and the admin calls stay on plain HTTP.
 */

export const VAULT_K1 = 'k1:' + Buffer.alloc(32, 1).toString('base64');
export const VAULT_K2 = 'k2:' + Buffer.alloc(32, 2).toString('base64');

/** The sandbox with TLS listeners and mutual TLS required on both banks (`plainHttp` for the few tests of plain HTTP). */
export function startSandbox(options: SandboxOptions & { plainHttp?: boolean } = {}): Promise<SandboxApp> {
  const { plainHttp, ...rest } = options;
  const certs = testCerts();
  const tls = plainHttp ? {} : { tls: { port: 0, cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert }, requireMtls: true };
  return createSandboxApp({ port: 0, host: '127.0.0.1', logger: false, ...tls, ...rest });
}

const PAIRS = { ca: 'ca', server: 'server', client: 'client', rogueCa: 'rogue-ca', rogueClient: 'rogue-client', rogueServer: 'rogue-server' } as const;

let certs: SandboxCertificates | undefined;
/**
 * One throwaway PKI for the run (RSA key generation is slow): made once by the global setup in
 * TEST_CERTS_DIR, else once per test file.
 */
export function testCerts(): SandboxCertificates {
  const dir = process.env.TEST_CERTS_DIR;
  if (!certs && dir && existsSync(join(dir, 'client.crt'))) {
    const pair = (name: string): PemPair => {
      const [certFile, keyFile] = [join(dir, `${name}.crt`), join(dir, `${name}.key`)];
      return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
    };
    certs = { dir, ...(Object.fromEntries(Object.entries(PAIRS).map(([field, name]) => [field, pair(name)])) as Omit<SandboxCertificates, 'dir'>) };
  }
  certs ??= generateSandboxCerts(mkdtempSync(join(tmpdir(), 'tpp-certs-')), { keyBits: 2048 });
  return certs;
}

export interface SandboxRequest {
  profile: string;
  route: string;
  grantType?: string;
  clientCertVerified: boolean;
  status: number;
  xRequestId?: string;
}

export async function sandboxRequests(sandboxUrl: string, filter: { profile?: string; route?: string } = {}): Promise<SandboxRequest[]> {
  const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => Boolean(e[1])));
  const res = await fetch(`${sandboxUrl}/admin/requests?${query.toString()}`);
  return ((await res.json()) as { requests: SandboxRequest[] }).requests;
}

export async function tokenCalls(sandboxUrl: string, profile: string, grantType?: string): Promise<number> {
  const requests = await sandboxRequests(sandboxUrl, { profile, route: 'token' });
  return requests.filter((r) => !grantType || r.grantType === grantType).length;
}

export async function admin(sandboxUrl: string, path: string, body?: unknown, method = 'POST'): Promise<void> {
  const res = await fetch(`${sandboxUrl}/admin/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 400) throw new Error(`admin ${path} answered ${res.status}`);
}

/**
 * Moves the sandbox clock to one second past a minute. Flowe settles an approved payment at its next
 * cut-off (every sandbox minute by default), so a test that approves right after this call sees the
 * payment stay ACSP for most of a minute, whatever the wall clock says.
 */
export async function startOfCutoffCycle(sandboxUrl: string): Promise<void> {
  const res = await fetch(`${sandboxUrl}/admin/clock`);
  const now = Date.parse(((await res.json()) as { now: string }).now);
  await admin(sandboxUrl, 'clock', { advanceSeconds: Math.ceil((60_000 - (now % 60_000)) / 1000) + 1 });
}

/** Where each bank's token endpoint and APIs live under a sandbox origin. */
const BANK_PATHS = {
  connectpay: { TOKEN_URL: '/connectpay/oauth/token', AIS_BASE_URL: '/connectpay/psd2/v1', PIS_BASE_URL: '/connectpay/psd2/v1' },
  flowe: { TOKEN_URL: '/flowe/idp/oauth2/v2.0/token', AIS_BASE_URL: '/flowe/openbankingais/v1', PIS_BASE_URL: '/flowe/openbankingpis/v1' },
} as const;

/**
 * BFF env pointing both banks at a sandbox: with TLS, each bank's token endpoint and APIs at that
 * bank's own TLS listener, with the TPP's client certificate and the sandbox CA.
 */
export function bankEnv(sandbox: SandboxApp): Record<string, string> {
  const env: Record<string, string> = { SANDBOX_URL: sandbox.httpUrl, TOKEN_VAULT_KEYS: VAULT_K1 };
  if (!sandbox.bankHttpsUrls) return env;
  const certs = testCerts();
  for (const [bank, paths] of Object.entries(BANK_PATHS) as [keyof typeof BANK_PATHS, (typeof BANK_PATHS)[keyof typeof BANK_PATHS]][]) {
    const prefix = bank.toUpperCase();
    for (const [name, path] of Object.entries(paths)) env[`${prefix}_${name}`] = `${sandbox.bankHttpsUrls[bank]}${path}`;
    Object.assign(env, {
      [`${prefix}_TLS_CERT_FILE`]: certs.client.certFile,
      [`${prefix}_TLS_KEY_FILE`]: certs.client.keyFile,
      [`${prefix}_TLS_CA_FILE`]: certs.ca.certFile,
    });
  }
  return env;
}

export interface BankWorld {
  sandbox: SandboxApp;
  bff: TestBff;
  close(): Promise<void>;
}

/** The sandbox ASPSP and the real BFF pointed at it, each in this process on its own loopback port. */
export async function startBankWorld(
  options: { sandbox?: SandboxOptions & { plainHttp?: boolean }; env?: Record<string, string>; db?: TestDatabase } = {},
): Promise<BankWorld> {
  const sandbox = await startSandbox(options.sandbox);
  const bff = await startTestBff({ ...bankEnv(sandbox), ...options.env }, { db: options.db });
  return {
    sandbox,
    bff,
    close: async () => {
      await bff.close();
      await sandbox.close();
    },
  };
}

export interface Connected {
  /** The user's BFF token (demo login). */
  token: string;
  connectionId: string;
}

/**
 * A demo user with an active connection to a bank: the whole login at the sandbox, as a browser
 * does it. `user` logs in at the bank; the BFF user is `user` too unless `userToken` says otherwise.
 */
export async function connectUser(bffUrl: string, user: string, aspspId: string, services?: string[], userToken?: string): Promise<Connected> {
  const token = userToken ?? (await sandboxLogin(bffUrl, user));
  const flow = await startConnect(bffUrl, token, aspspId, { username: user, ...(services ? { services } : {}) });
  const outcome = await finishConnect(flow);
  if (outcome.result !== 'success') throw new Error(`connect failed: ${JSON.stringify(outcome)}`);
  return { token, connectionId: flow.connectionId };
}

/** A valid bank access token of a connection, as the BFF would use it for a bank call. */
export async function accessTokenOf(bff: TestBff, connectionId: string): Promise<string> {
  const connection = await bff.app.get(ConnectionsService).findById(connectionId);
  if (!connection) throw new Error(`no connection ${connectionId}`);
  return bff.app.get(BankTokensService).accessToken(connection);
}

/**
 * Waits out the banks' one-status-request-per-second rule (plus the BFF's headroom): a test that
 * asks the same payment's or consent's status twice in a row would otherwise get the stored answer.
 */
export function nextStatusWindow(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1150));
}
