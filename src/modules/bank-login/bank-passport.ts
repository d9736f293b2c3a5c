import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
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
  run<T = void>(aspspId: string, options: BankAuthOptions, req: Request, res: Response): Promise<T> {
    (req as Request & { bankAuth?: BankAuthOptions }).bankAuth = options;
    return new Promise<T>((resolve, reject) => {
      res.once('finish', () => resolve(undefined as T));
      const middleware = this.passport.authenticate(`oauth-${aspspId}`, options, (err: unknown, user: unknown) => {
        if (err) return reject(err instanceof Error ? err : new Error('authentication failed'));
        if (!user) return reject(new Error('the bank login did not complete'));
        resolve(user as T);
      });
      middleware(req, res, (err?: unknown) => reject(err instanceof Error ? err : new Error('authentication failed')));
    });
  }
}
