import { Injectable } from '@nestjs/common';
import { SandboxClock } from '../clock/sandbox-clock.js';
import type { Profile } from '../config.js';
import { AuthorizePageError } from './oauth-error.js';
import { OAuthStore, randomToken, type LoginRequest } from './oauth-store.js';

/** How long the PSU has to finish the bank's login page. */
const LOGIN_TTL_MS = 30 * 60 * 1000;

/** Authorization requests parked between the authorize redirect and the login form POST. */
@Injectable()
export class LoginRequestsService {
  constructor(
    private readonly store: OAuthStore,
    private readonly clock: SandboxClock,
  ) {}

  create(request: Omit<LoginRequest, 'id' | 'expiresAtMs' | 'done'>): LoginRequest {
    const login: LoginRequest = { ...request, id: randomToken(16), expiresAtMs: this.clock.nowMs() + LOGIN_TTL_MS, done: false };
    this.store.loginRequests.set(login.id, login);
    return login;
  }

  /** The pending request behind a login page, or a 400 page (unknown, finished or expired). */
  active(profile: Profile, id: unknown): LoginRequest {
    const login = typeof id === 'string' ? this.store.loginRequests.get(id) : undefined;
    if (login === undefined || login.profile !== profile)
      throw new AuthorizePageError(400, 'invalid_request', 'Unknown login request: start again from the TPP.');
    if (login.done) throw new AuthorizePageError(400, 'invalid_request', 'This login request has already been completed.');
    if (this.clock.nowMs() >= login.expiresAtMs)
      throw new AuthorizePageError(400, 'invalid_request', 'This login request has expired: start again from the TPP.');
    return login;
  }

  complete(login: LoginRequest): void {
    login.done = true;
  }
}

/** `base` with extra query parameters, for the redirect back to the TPP. */
export function withQuery(base: string, params: Record<string, string>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.append(key, value);
  return url.toString();
}
