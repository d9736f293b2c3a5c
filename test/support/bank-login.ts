import { expect } from '@jest/globals';
import type { Dispatcher } from 'undici';

export interface Hop {
  status: number;
  location?: string;
  setCookies: string[];
  text: string;
}

/** One request without following redirects, as a browser's single navigation step. */
export async function hop(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; dispatcher?: Dispatcher } = {}): Promise<Hop> {
  const res = await fetch(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body, redirect: 'manual', ...(init.dispatcher ? { dispatcher: init.dispatcher } : {}) } as RequestInit);
  const location = res.headers.get('location') ?? undefined;
  return { status: res.status, location: location ? new URL(location, url).toString() : undefined, setCookies: res.headers.getSetCookie(), text: await res.text() };
}

/** The `name=value` pairs a browser would send back. */
export function cookieHeader(setCookies: string[]): string {
  return setCookies.map((c) => c.split(';')[0]).join('; ');
}

export interface BankLoginOptions {
  username?: string;
  decision?: 'allow' | 'deny';
  /** ConnectPay: the scopes the PSU leaves ticked (default all). */
  scopes?: string[];
}

/**
 * Plays the PSU at the sandbox bank: follows the BFF's redirect to the bank's authorize endpoint,
 * submits the login form and returns where the bank sends the browser back (the BFF callback).
 */
export async function loginAtBank(bankAuthorizeUrl: string, options: BankLoginOptions = {}): Promise<string> {
  const authorize = await hop(bankAuthorizeUrl);
  expect([301, 302]).toContain(authorize.status);
  const loginPage = new URL(authorize.location!);
  const request = loginPage.searchParams.get('request')!;
  const form = new URLSearchParams({ request, username: options.username ?? 'alice', password: 'sandbox', otp: '123456', decision: options.decision ?? 'allow' });
  if (options.scopes) {
    form.set('scope_choice', '1');
    for (const scope of options.scopes) form.append('scope', scope);
  }
  const submitted = await hop(loginPage.toString(), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  expect(submitted.status).toBe(302);
  return submitted.location!;
}

export interface ConnectFlow {
  connectionId: string;
  /** The BFF's redirect to the bank. */
  bankAuthorizeUrl: string;
  /** The browser's binding cookie for the BFF. */
  cookie: string;
  /** The bank's redirect back to the BFF (callback URL with code/state). */
  callbackUrl: string;
}

/** POST /api/v1/connections, then the browser's navigation to the bank and the PSU's login. */
export async function startConnect(bffUrl: string, userToken: string, aspspId: string, options: BankLoginOptions & { services?: string[]; returnUrl?: string } = {}): Promise<ConnectFlow> {
  const created = await fetch(`${bffUrl}/api/v1/connections`, {
    method: 'POST',
    headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ aspspId, returnUrl: options.returnUrl ?? `${bffUrl}/`, ...(options.services ? { services: options.services } : {}) }),
  });
  expect(created.status).toBe(201);
  const body = (await created.json()) as { id: string; status: string; authorizationUrl: string };
  expect(body.status).toBe('pending');
  const login = await hop(new URL(body.authorizationUrl, bffUrl).toString());
  expect(login.status).toBe(302);
  const callbackUrl = await loginAtBank(login.location!, options);
  return { connectionId: body.id, bankAuthorizeUrl: login.location!, cookie: cookieHeader(login.setCookies), callbackUrl };
}

/** The browser arriving back at the BFF's callback; returns the outcome query sent to the frontend. */
export async function finishConnect(flow: Pick<ConnectFlow, 'callbackUrl' | 'cookie'>): Promise<Record<string, string>> {
  const back = await hop(flow.callbackUrl, { headers: flow.cookie ? { cookie: flow.cookie } : {} });
  expect(back.status).toBe(302);
  return Object.fromEntries(new URL(back.location!).searchParams);
}

export async function sandboxLogin(bffUrl: string, userId: string): Promise<string> {
  const res = await fetch(`${bffUrl}/api/v1/sandbox/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}
