import type { Request } from 'express';
import type { AspspAdapter } from '../../src/aspsp/aspsp-adapter.js';
import { BankOAuthStrategy, type BankAuthOptions } from '../../src/modules/bank-login/bank-oauth.strategy.js';
import type { LoginFlowStore } from '../../src/modules/bank-login/login-flow.store.js';

/** Just what the strategy reads of a bank adapter; `exchanged` records code exchanges. */
function fakeAdapter(exchanged: string[]): AspspAdapter {
  return {
    id: 'flowe',
    bank: {
      authorizeUrl: 'https://bank.example/authorize',
      clientId: 'client',
      clientSecret: 'secret',
      redirectUri: 'https://bff.example/auth/flowe/callback',
      services: ['ais'],
    },
    standardRedirectParam: true,
    tokenEndpoint: () => 'https://bank.example/token',
    authorizationParams: () => ({ scope: 'ais' }),
    tokens: {
      exchangeCode: (code: string) => {
        exchanged.push(code);
        return Promise.reject(new Error('no bank here'));
      },
    },
  } as unknown as AspspAdapter;
}

const store = { saveState: () => Promise.resolve() } as unknown as LoginFlowStore;

describe('BankOAuthStrategy: the authorize step', () => {
  it.each([
    ['a code in the query', { query: { ticket: 't', code: 'stolen' }, body: {} }],
    ['an error in the query', { query: { error: 'access_denied' }, body: {} }],
    ['a code in the body', { query: {}, body: { code: 'stolen' } }],
  ])('with %s still redirects to the bank and exchanges nothing', async (_what, params) => {
    const exchanged: string[] = [];
    const strategy = new BankOAuthStrategy(fakeAdapter(exchanged), store) as BankOAuthStrategy & Record<string, unknown>;
    const options: BankAuthOptions = { session: false, login: { connectionId: 'c1', services: ['ais'], binding: 'b', state: 'the-state' } };
    const outcome = await new Promise<string>((resolve) => {
      strategy.redirect = (url: string) => resolve(`redirect ${url}`);
      strategy.fail = () => resolve('fail');
      strategy.error = () => resolve('error');
      strategy.success = () => resolve('success');
      strategy.authenticate({ ...params, headers: {}, bankAuth: options } as unknown as Request, options);
    });
    expect(outcome).toMatch(/^redirect https:\/\/bank\.example\/authorize\?/);
    expect(new URL(outcome.slice('redirect '.length)).searchParams.get('state')).toBe('the-state');
    expect(exchanged).toEqual([]);
  });
});
