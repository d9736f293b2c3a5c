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
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: init.headers,
    body: init.body,
    redirect: 'manual',
    ...(init.dispatcher ? { dispatcher: init.dispatcher } : {}),
  } as RequestInit);
  const location = res.headers.get('location') ?? undefined;
  return {
    status: res.status,
    location: location ? new URL(location, url).toString() : undefined,
    setCookies: res.headers.getSetCookie(),
    text: await res.text(),
  };
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
  const form = new URLSearchParams({
    request,
    username: options.username ?? 'alice',
    password: 'sandbox',
    otp: '123456',
    decision: options.decision ?? 'allow',
  });
  if (options.scopes) {
    form.set('scope_choice', '1');
    for (const scope of options.scopes) form.append('scope', scope);
  }
  const submitted = await hop(loginPage.toString(), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  expect(submitted.status).toBe(302);
  return submitted.location!;
}

export interface ConnectFlow {
  connectionId: string;
  /** The BFF's redirect to the bank. */
  bankAuthorizeUrl: string;
  /** The browser's callback cookie for the BFF (set when it left for the bank). */
  cookie: string;
  /** The bank's redirect back to the BFF (callback URL with code/state). */
  callbackUrl: string;
}

export interface CreatedConnection {
  id: string;
  authorizationUrl: string;
  /** The start cookie the BFF set in the browser that created the connection. */
  startCookie: string;
}

/** POST /api/v1/connections from the web app's browser (the response's start cookie is kept, as a browser keeps it). */
export async function createConnection(
  bffUrl: string,
  userToken: string,
  aspspId: string,
  options: { services?: string[]; returnUrl?: string; cookie?: string } = {},
): Promise<CreatedConnection> {
  const created = await fetch(`${bffUrl}/api/v1/connections`, {
    method: 'POST',
    headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/json', ...(options.cookie ? { cookie: options.cookie } : {}) },
    body: JSON.stringify({ aspspId, returnUrl: options.returnUrl ?? `${bffUrl}/`, ...(options.services ? { services: options.services } : {}) }),
  });
  expect(created.status).toBe(201);
  const body = (await created.json()) as { id: string; status: string; authorizationUrl: string };
  expect(body.status).toBe('pending');
  return { id: body.id, authorizationUrl: new URL(body.authorizationUrl, bffUrl).toString(), startCookie: cookieHeader(created.headers.getSetCookie()) };
}

/**
 * POST /api/v1/connections, then the same browser's navigation to the bank (it carries the start
 * cookie, so no confirmation is asked) and the PSU's login.
 */
export async function startConnect(
  bffUrl: string,
  userToken: string,
  aspspId: string,
  options: BankLoginOptions & { services?: string[]; returnUrl?: string } = {},
): Promise<ConnectFlow> {
  const created = await createConnection(bffUrl, userToken, aspspId, options);
  const login = await hop(created.authorizationUrl, { headers: { cookie: created.startCookie } });
  expect(login.status).toBe(302);
  const callbackUrl = await loginAtBank(login.location!, options);
  return { connectionId: created.id, bankAuthorizeUrl: login.location!, cookie: cookieHeader(login.setCookies), callbackUrl };
}

/** The browser arriving back at the BFF's callback; returns the outcome query sent to the frontend. */
export async function finishConnect(flow: Pick<ConnectFlow, 'callbackUrl' | 'cookie'>): Promise<Record<string, string>> {
  const back = await hop(flow.callbackUrl, { headers: flow.cookie ? { cookie: flow.cookie } : {} });
  expect(back.status).toBe(302);
  return Object.fromEntries(new URL(back.location!).searchParams);
}

export async function sandboxLogin(bffUrl: string, userId: string): Promise<string> {
  const res = await fetch(`${bffUrl}/api/v1/sandbox/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

/**
 * One browser's cookies for one origin, kept across navigations as a browser keeps them (the
 * attributes are not modelled: every test request is same-site unless it says otherwise by
 * leaving the cookie out). `go` is one navigation step, redirects not followed.
 */
export class Browser {
  private readonly jar = new Map<string, string>();

  constructor(readonly name: string) {}

  get cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  keep(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '' || /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async go(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; withCookies?: boolean } = {}): Promise<Hop> {
    const headers = { ...init.headers, ...(init.withCookies === false || this.jar.size === 0 ? {} : { cookie: this.cookie }) };
    const res = await hop(url, { method: init.method, headers, body: init.body });
    this.keep(res.setCookies);
    return res;
  }
}

/** The hidden one-time token and the form target of a confirmation page. */
export function confirmationForm(page: Hop): { action: string; confirmation: string } {
  const action = /<form method="post" action="([^"]+)"/.exec(page.text)?.[1];
  const confirmation = /name="confirmation" value="([A-Za-z0-9_-]+)"/.exec(page.text)?.[1];
  if (!action || !confirmation) throw new Error(`not a confirmation page: ${page.status} ${page.text.slice(0, 200)}`);
  return { action, confirmation };
}
