import type { Request } from 'express';
import { Strategy as OAuth2Strategy, type StrategyOptionsWithRequest, type VerifyCallback } from 'passport-oauth2';
import type { AspspAdapter } from '../../aspsp/aspsp-adapter.js';
import type { TokenSet } from '../../aspsp/oauth/token-set.js';
import type { Service } from '../../config/banks.config.js';
import type { LoginFlowStore } from './login-flow.store.js';

/** Per-call options the auth routes pass to `passport.authenticate(name, options)`. */
export interface BankAuthOptions {
  session: false;
  /** Authorize step: the state (already chosen), nonce, binding and services of this login. */
  login?: { connectionId: string; services: Service[]; binding: string; state: string; nonce?: string };
  /** Callback step: set only after the route has consumed and checked the state. */
  callback?: { connectionId: string; services: Service[] };
}

/** What passport hands the callback route after a successful code exchange. */
export interface CallbackResult {
  connectionId: string;
  tokens: TokenSet;
}

type Done<T> = (err: Error | null, value?: T) => void;
/**
 * passport's types name Express's request. The request it gets is Fastify's (BankPassport.run):
 * the strategy reads only what both have (query, body, headers) and the login context.
 */
type AuthRequest = Request & { bankAuth?: BankAuthOptions };

/**
 * passport-oauth2 drives the protocol for one bank: it builds the authorize redirect with the
 * adapter's parameters, stores the state through our PostgreSQL store, and on the way back calls
 * the token endpoint with the code. The token request itself goes through the adapter's
 * TokenClient (undici: mutual TLS with the QWAC, timeouts, a logged request id) instead of the
 * `oauth` package's HTTP code, which has no timeout and treats a 301 as success.
 */
export class BankOAuthStrategy extends OAuth2Strategy {
  constructor(
    private readonly adapter: AspspAdapter,
    store: LoginFlowStore,
  ) {
    super(
      {
        authorizationURL: adapter.bank.authorizeUrl,
        tokenURL: adapter.tokenEndpoint(),
        clientID: adapter.bank.clientId,
        clientSecret: adapter.bank.clientSecret,
        // ConnectPay calls it redirect_url and its adapter adds it; Flowe uses the standard name.
        callbackURL: adapter.standardRedirectParam ? adapter.bank.redirectUri : undefined,
        scopeSeparator: ' ',
        passReqToCallback: true,
        skipUserProfile: true,
        store: {
          // Called as store(req, meta, cb) just before the redirect to the bank.
          store: (req: AuthRequest, _meta: unknown, done: Done<string>) => {
            const login = req.bankAuth?.login;
            if (!login) return done(new Error('login context missing'));
            store
              .saveState({ state: login.state, connectionId: login.connectionId, aspspId: adapter.id, binding: login.binding, nonce: login.nonce })
              .then(() => done(null, login.state), done);
          },
          // Called as verify(req, state, meta, cb) when a code arrives. The callback route has
          // already consumed and checked the state (it must, for denials too, which never reach
          // here), so this only confirms the route did.
          verify: (req: AuthRequest, _state: string, _meta: unknown, done: (err: Error | null, ok: boolean) => void) => {
            done(null, Boolean(req.bankAuth?.callback));
          },
        },
      } as unknown as StrategyOptionsWithRequest,
      (req: AuthRequest, _access: string, _refresh: string, params: { tokenSet?: TokenSet }, _profile: unknown, done: VerifyCallback) => {
        const callback = req.bankAuth?.callback;
        if (!callback || !params.tokenSet) return done(new Error('token exchange context missing'));
        done(null, { connectionId: callback.connectionId, tokens: params.tokenSet } satisfies CallbackResult);
      },
    );
    this.name = `oauth-${adapter.id}`;
    const oauth2 = (this as unknown as { _oauth2: { getOAuthAccessToken: unknown } })._oauth2;
    oauth2.getOAuthAccessToken = (
      code: string,
      params: { services?: Service[] },
      callback: (err: unknown, access?: string, refresh?: string, results?: unknown) => void,
    ) => {
      this.adapter.tokens.exchangeCode(code, params.services ?? this.adapter.bank.services).then(
        (tokenSet) => callback(null, tokenSet.accessToken, tokenSet.refreshToken, { tokenSet }),
        (error: unknown) => callback(error),
      );
    };
  }

  /**
   * passport-oauth2 decides what a request is from its parameters: a `code` (query or body) means
   * "exchange it", an `error` means "the bank refused". The authorize step must never be either, so
   * it sees the request without them (the callback route passes the real one).
   */
  override authenticate(req: Request, options: BankAuthOptions): void {
    super.authenticate(options.login ? withoutParameters(req) : req, options);
  }

  /** The adapter's authorize parameters for this login (ConnectPay: flowid, nonce, redirect_url). */
  override authorizationParams(options: BankAuthOptions): object {
    const login = options.login;
    return login ? this.adapter.authorizationParams({ services: login.services, state: login.state, nonce: login.nonce }) : {};
  }

  /** Carries the connection's services to the token request (Flowe repeats the scope there). */
  override tokenParams(options: BankAuthOptions): object {
    return { services: options.callback?.services };
  }
}

/** The same request (headers, cookies, the login context) with no query and no body. */
function withoutParameters(req: Request): Request {
  return Object.create(req, { query: { value: {}, enumerable: true }, body: { value: {}, enumerable: true } }) as Request;
}
