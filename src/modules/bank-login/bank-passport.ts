import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import passport from 'passport';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { BankOAuthStrategy, type BankAuthOptions } from './bank-oauth.strategy.js';
import { LoginFlowStore } from './login-flow.store.js';

/**
 * A private passport instance with one OAuth2 strategy per configured bank (no sessions, no global
 * state shared with anything else in the process).
 */
@Injectable()
export class BankPassport {
  private readonly passport = new passport.Passport();

  constructor(aspsps: AspspRegistry, store: LoginFlowStore) {
    for (const adapter of aspsps.all()) this.passport.use(new BankOAuthStrategy(adapter, store));
  }

  /**
   * Runs the bank's strategy for this request. On the authorize step passport answers with the
   * redirect itself and this resolves once it is sent; on the callback step it resolves with what
   * the strategy produced, or rejects with the exchange error.
   */
  run<T = void>(aspspId: string, options: BankAuthOptions, request: FastifyRequest, reply: FastifyReply): Promise<T> {
    // passport adds its helpers (req.login, …) to the request it is given: a child object takes them.
    const req = Object.create(request) as FastifyRequest & { bankAuth?: BankAuthOptions };
    req.bankAuth = options;
    return new Promise<T>((resolve, reject) => {
      // passport answers a redirect through Node's response API (statusCode, setHeader, end). It is
      // sent through Fastify's reply instead, so the cookies set on the reply go with it.
      const res = {
        statusCode: 302,
        setHeader: (name: string, value: string) => void reply.header(name, value),
        end: () => {
          void reply.code(res.statusCode).send();
          resolve(undefined as T);
        },
      };
      const middleware = this.passport.authenticate(`oauth-${aspspId}`, options, (err: unknown, user: unknown) => {
        if (err) return reject(err instanceof Error ? err : new Error('authentication failed'));
        if (!user) return reject(new Error('the bank login did not complete'));
        resolve(user as T);
      }) as (req: unknown, res: unknown, next: (err?: unknown) => void) => void;
      middleware(req, res, (err?: unknown) => reject(err instanceof Error ? err : new Error('authentication failed')));
    });
  }
}
