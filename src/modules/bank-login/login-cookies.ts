import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Every value this module puts in a cookie: 256 random bits, base64url (see secrets.ts). */
const WELL_FORMED = /^[A-Za-z0-9_-]{43}$/;

/** One of the login's cookies: HttpOnly, host-only, path `/`, `__Host-` and Secure whenever served over https. */
export class LoginCookie {
  readonly name: string;
  private readonly options: CookieSerializeOptions;

  constructor(
    baseName: string,
    secure: boolean,
    sameSite: 'strict' | 'lax',
    private readonly maxAgeMs: number,
  ) {
    this.name = secure ? `__Host-${baseName}` : baseName;
    this.options = { httpOnly: true, secure, sameSite, path: '/' };
  }

  /** The value this browser sent, when it is one this module could have set. */
  read(req: FastifyRequest): string | undefined {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[this.name];
    return typeof value === 'string' && WELL_FORMED.test(value) ? value : undefined;
  }

  /** Max-Age and Expires both, as browsers that predate Max-Age read only Expires. */
  set(reply: FastifyReply, value: string): void {
    void reply.setCookie(this.name, value, { ...this.options, maxAge: Math.floor(this.maxAgeMs / 1000), expires: new Date(Date.now() + this.maxAgeMs) });
  }

  clear(reply: FastifyReply): void {
    void reply.clearCookie(this.name, this.options);
  }
}

export interface LoginCookies {
  /**
   * Which browser may start a login: set by `POST /api/v1/connections` (and by the confirmation
   * page), checked by `/auth/{aspspId}/login`. SameSite=Strict: the start is always a same-site
   * navigation (the web app's own page, or the confirmation page's form), and a link opened from
   * another site or sent to someone else never carries it.
   */
  start: LoginCookie;
  /**
   * Which browser a login must come back to: set when the browser leaves for the bank, checked by
   * the callback. SameSite=Lax: the bank sends the browser back cross-site at top level, where a
   * Strict cookie would not be sent; a cross-site subrequest does not carry it.
   */
  callback: LoginCookie;
}

export function loginCookies(secure: boolean, ttl: { startMs: number; callbackMs: number }): LoginCookies {
  return {
    start: new LoginCookie('tpp_start', secure, 'strict', ttl.startMs),
    callback: new LoginCookie('tpp_login', secure, 'lax', ttl.callbackMs),
  };
}
