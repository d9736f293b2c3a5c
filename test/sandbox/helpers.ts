import { randomUUID } from 'node:crypto';
import { Agent, fetch, type Dispatcher } from 'undici';
import { DEFAULT_CONNECTPAY_CLIENT, DEFAULT_FLOWE_CLIENT, FLOWE_SCOPES, type Profile, type SandboxOptions } from '../../src/sandbox/config.js';
import { createSandboxApp, type SandboxApp } from '../../src/sandbox/sandbox-app.js';

export const CP = DEFAULT_CONNECTPAY_CLIENT;
export const FL = DEFAULT_FLOWE_CLIENT;
export const CP_REDIRECT = 'http://localhost:3000/auth/connectpay/callback';
export const FL_REDIRECT = 'http://localhost:3000/auth/flowe/callback';
export const FL_SCOPE_ALL = [FLOWE_SCOPES.offlineAccess, FLOWE_SCOPES.userImpersonation, FLOWE_SCOPES.aisp, FLOWE_SCOPES.pisp].join(' ');
export const PSU_IP = '203.0.113.7';

export function startSandbox(options: SandboxOptions = {}): Promise<SandboxApp> {
  return createSandboxApp({ port: 0, logger: false, ...options });
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** Parsed JSON body, or undefined. */
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly location?: string;
}

export interface CallOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  readonly form?: Record<string, string | string[]>;
  readonly dispatcher?: Dispatcher;
}

/** One HTTP request, never following redirects. */
export async function call(url: string, options: CallOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(options.form)) for (const item of [v].flat()) params.append(k, item);
    body = params.toString();
  }
  const res = await fetch(url, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    redirect: 'manual',
    dispatcher: options.dispatcher,
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers as unknown as Headers, text, body: parsed, location: res.headers.get('location') ?? undefined };
}

export function mtlsAgent(tls: { ca: string; cert?: string; key?: string }): Agent {
  return new Agent({ connect: { ca: tls.ca, cert: tls.cert, key: tls.key } });
}

/** Query parameters of a redirect Location. */
export function queryOf(location: string | undefined): Record<string, string> {
  if (location === undefined) throw new Error('no Location header');
  return Object.fromEntries(new URL(location).searchParams);
}

// ---------------------------------------------------------------- ConnectPay

export function connectPayAuthorizeUrl(base: string, overrides: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    client_id: CP.clientId,
    flowid: 'GetPSD2AuthCode',
    nonce: randomUUID(),
    scope: 'psd2-ais psd2-pis',
    state: `st-${randomUUID()}`,
    redirect_url: CP_REDIRECT,
    response_type: 'code',
    ...overrides,
  };
  const query = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  return `${base}/connectpay/oauth/authorize?${query.toString()}`;
}

/** authorize → 301 → login form POST → 302 to the callback; returns the callback's query. */
export async function connectPayLogin(
  base: string,
  options: {
    username?: string;
    customer?: string;
    scopes?: string[];
    form?: Record<string, string | string[]>;
    authorize?: Record<string, string | undefined>;
  } = {},
): Promise<Record<string, string>> {
  const authorize = await call(connectPayAuthorizeUrl(base, options.authorize));
  if (authorize.status !== 301) throw new Error(`authorize answered ${authorize.status}: ${authorize.text}`);
  const requestId = new URL(authorize.location!).searchParams.get('request')!;
  const form: Record<string, string | string[]> = {
    request: requestId,
    username: options.username ?? 'alice',
    password: 'sandbox',
    otp: '123456',
    decision: 'allow',
    ...(options.customer === undefined ? {} : { customer: options.customer }),
    ...(options.scopes === undefined ? {} : { scope_choice: '1', scope: options.scopes }),
    ...options.form,
  };
  const login = await call(`${base}/connectpay/auth/login?request=${encodeURIComponent(requestId)}`, { form });
  if (login.status !== 302) throw new Error(`login answered ${login.status}: ${login.text.slice(0, 300)}`);
  return queryOf(login.location);
}

export async function connectPayToken(base: string, form: Record<string, string>, dispatcher?: Dispatcher): Promise<HttpResult> {
  return call(`${base}/connectpay/oauth/token`, { form: { client_id: CP.clientId, client_secret: CP.clientSecret, ...form }, dispatcher });
}

/** A fresh ConnectPay access token for alice's first customer (or as asked). */
export async function connectPayTokens(
  base: string,
  options: { username?: string; customer?: string; scopes?: string[] } = {},
): Promise<{ access: string; refresh: string }> {
  const { code } = await connectPayLogin(base, options);
  const res = await connectPayToken(base, { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT });
  if (res.status !== 200) throw new Error(`token answered ${res.status}: ${res.text}`);
  return { access: res.body.access_token, refresh: res.body.refresh_token };
}

// ---------------------------------------------------------------- Flowe

export function floweAuthorizeUrl(base: string, overrides: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    p: 'B2C_1A_Psd2_SignIn',
    client_id: FL.clientId,
    state: `st-${randomUUID()}`,
    redirect_uri: FL_REDIRECT,
    scope: FL_SCOPE_ALL,
    response_type: 'code',
    prompt: 'login',
    ...overrides,
  };
  const query = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  return `${base}/flowe/idp/oauth2/v2.0/authorize?${query.toString()}`;
}

export async function floweLogin(
  base: string,
  options: { username?: string; decision?: string; authorize?: Record<string, string | undefined> } = {},
): Promise<Record<string, string>> {
  const authorize = await call(floweAuthorizeUrl(base, options.authorize));
  if (authorize.status !== 302) throw new Error(`authorize answered ${authorize.status}: ${authorize.text}`);
  const requestId = new URL(authorize.location!).searchParams.get('request');
  if (requestId === null) return queryOf(authorize.location);
  const login = await call(`${base}/flowe/idp/login?request=${encodeURIComponent(requestId)}`, {
    form: { request: requestId, username: options.username ?? 'alice', password: 'sandbox', otp: '123456', decision: options.decision ?? 'allow' },
  });
  if (login.status !== 302) throw new Error(`login answered ${login.status}: ${login.text.slice(0, 300)}`);
  return queryOf(login.location);
}

export async function floweToken(base: string, form: Record<string, string>, dispatcher?: Dispatcher): Promise<HttpResult> {
  return call(`${base}/flowe/idp/oauth2/v2.0/token?p=B2C_1A_Psd2_SignIn`, {
    form: { client_id: FL.clientId, client_secret: FL.clientSecret, scope: FL_SCOPE_ALL, ...form },
    dispatcher,
  });
}

export async function floweTokens(base: string, options: { username?: string } = {}): Promise<{ access: string; refresh: string }> {
  const { code } = await floweLogin(base, options);
  const res = await floweToken(base, { grant_type: 'authorization_code', code: code! });
  if (res.status !== 200) throw new Error(`token answered ${res.status}: ${res.text}`);
  return { access: res.body.access_token, refresh: res.body.refresh_token };
}

// ---------------------------------------------------------------- Berlin Group

export const API_BASE: Record<Profile, { ais: string; pis: string }> = {
  connectpay: { ais: '/connectpay/psd2/v1', pis: '/connectpay/psd2/v1' },
  flowe: { ais: '/flowe/openbankingais/v1', pis: '/flowe/openbankingpis/v1' },
};

/** Berlin Group calls with the headers each bank needs (X-Request-ID, Bearer, Flowe's subscription key). */
export function bgClient(base: string, profile: Profile, token: string, defaults: { headers?: Record<string, string>; dispatcher?: Dispatcher } = {}) {
  const request = (method: string, path: string, options: { json?: unknown; headers?: Record<string, string> } = {}): Promise<HttpResult> => {
    const headers: Record<string, string> = { 'X-Request-ID': randomUUID(), Authorization: `Bearer ${token}`, ...defaults.headers, ...options.headers };
    if (profile === 'flowe' && !Object.keys(headers).some((h) => /^p[o0]-apikey$/i.test(h))) headers['PO-APIKey'] = FL.subscriptionKey;
    for (const [k, v] of Object.entries(headers)) if (v === '') delete headers[k];
    const url = path.startsWith('http')
      ? path
      : path.startsWith(`/${profile}/`)
        ? `${base}${path}`
        : `${base}${API_BASE[profile][path.startsWith('/payments') ? 'pis' : 'ais']}${path}`;
    return call(url, { method, json: options.json, headers, dispatcher: defaults.dispatcher });
  };
  return {
    get: (path: string, headers?: Record<string, string>) => request('GET', path, { headers }),
    post: (path: string, json: unknown, headers?: Record<string, string>) => request('POST', path, { json, headers }),
    delete: (path: string, headers?: Record<string, string>) => request('DELETE', path, { headers }),
  };
}

export function consentBody(overrides: Record<string, unknown> = {}, today = new Date().toISOString().slice(0, 10)): Record<string, unknown> {
  const validUntil = new Date(Date.parse(`${today}T00:00:00Z`) + 30 * 86_400_000).toISOString().slice(0, 10);
  return {
    access: { availableAccounts: 'allAccounts', allPsd2: 'allAccounts' },
    recurringIndicator: true,
    validUntil,
    frequencyPerDay: 4,
    combinedServiceIndicator: false,
    ...overrides,
  };
}

export async function decide(base: string, kind: 'consent' | 'payment', id: string, decision: 'approve' | 'reject' = 'approve'): Promise<HttpResult> {
  return call(`${base}/psu/api/decisions`, { json: { kind, id, decision } });
}

/** `POST /admin/modes` for one bank; resolves to that bank's modes in force afterwards. */
export async function setModes(base: string, profile: Profile, modes: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await call(`${base}/admin/modes`, { json: { profile, ...modes } });
  if (res.status !== 200) throw new Error(`modes answered ${res.status}: ${res.text}`);
  return res.body.modes[profile];
}

/** `POST /admin/config-faults` for one bank. */
export async function setConfigFaults(base: string, profile: Profile, faults: Record<string, unknown>): Promise<void> {
  const res = await call(`${base}/admin/config-faults`, { json: { profile, ...faults } });
  if (res.status !== 200) throw new Error(`config-faults answered ${res.status}: ${res.text}`);
}

export async function advanceClock(base: string, seconds: number): Promise<void> {
  const res = await call(`${base}/admin/clock`, { json: { advanceSeconds: seconds } });
  if (res.status !== 200) throw new Error(`clock answered ${res.status}`);
}

/** The status a consent creation answers with: 200 in the Flowe guide's form (its default), 201 in Berlin Group's. */
export function consentCreatedStatus(profile: Profile): number {
  return profile === 'flowe' ? 200 : 201;
}

/** A valid consent for the token's PSU, approved by the PSU. */
export async function validConsent(base: string, profile: Profile, token: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const api = bgClient(base, profile, token);
  const created = await api.post('/consents', consentBody(overrides));
  if (created.status !== consentCreatedStatus(profile)) throw new Error(`consent answered ${created.status}: ${created.text}`);
  const decided = await decide(base, 'consent', created.body.consentId);
  if (decided.status !== 200) throw new Error(`decision answered ${decided.status}`);
  return created.body.consentId as string;
}

export interface DemoAccount {
  resourceId: string;
  iban: string;
}

/** Accounts of a customer, from GET /admin/users. */
export async function accountsOf(base: string, username: string, profile: Profile, customerIndex = 0): Promise<DemoAccount[]> {
  const res = await call(`${base}/admin/users`);
  const user = res.body.users.find((u: { username: string }) => u.username === username);
  return user.customers.filter((c: { profile: string }) => c.profile === profile)[customerIndex].accounts;
}
