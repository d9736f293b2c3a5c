import type { BankConfig } from '../../../src/config/banks.config.js';

/** A bank's configuration for specs that never reach a network: test hosts, the given differences on top. */
export function testBank(overrides: Partial<BankConfig> & Pick<BankConfig, 'id' | 'name' | 'adapter'>): BankConfig {
  return {
    services: ['ais', 'pis'],
    authorizeUrl: 'https://bank.test/authorize',
    tokenUrl: 'https://bank.test/token',
    aisBaseUrl: 'https://bank.test/ais/v1',
    pisBaseUrl: 'https://bank.test/pis/v1',
    clientId: 'c',
    clientSecret: 's',
    scopes: { base: [], ais: ['a'], pis: ['p'] },
    redirectUri: 'https://tpp.test/cb',
    currencies: ['EUR'],
    chargeBearer: 'SLEV',
    timeoutMs: 1000,
    aisBudgetCounting: 'per_call',
    psuIp: { headers: ['PSU-IP-Address'], format: 'ipv4' },
    breaker: { threshold: 5, halfOpenAfterMs: 10_000 },
    statusMinIntervalMs: 1000,
    ...overrides,
  };
}
