import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSandboxCerts, type SandboxCertificates } from '../../src/sandbox/certs.js';
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
 * login (BFF, sandbox login page, callback).
 */

export const VAULT_K1 = 'k1:' + Buffer.alloc(32, 1).toString('base64');
export const VAULT_K2 = 'k2:' + Buffer.alloc(32, 2).toString('base64');

export function startSandbox(options: SandboxOptions = {}): Promise<SandboxApp> {
  return createSandboxApp({ port: 0, host: '127.0.0.1', logger: false, ...options });
}

let certs: SandboxCertificates | undefined;
/** One throwaway PKI per test file (RSA key generation is slow). */
export function testCerts(): SandboxCertificates {
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
  const res = await fetch(`${sandboxUrl}/admin/${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status >= 400) throw new Error(`admin ${path} answered ${res.status}`);
}

/** BFF env pointing both banks at a sandbox. */
export function bankEnv(sandbox: SandboxApp): Record<string, string> {
  return { SANDBOX_URL: sandbox.httpUrl, TOKEN_VAULT_KEYS: VAULT_K1 };
}

export interface BankWorld {
  sandbox: SandboxApp;
  bff: TestBff;
  close(): Promise<void>;
}

/** The sandbox ASPSP and the real BFF pointed at it, each in this process on its own loopback port. */
export async function startBankWorld(options: { sandbox?: SandboxOptions; env?: Record<string, string>; db?: TestDatabase } = {}): Promise<BankWorld> {
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
