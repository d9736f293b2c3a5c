import type { BankConfig, Service } from '../../config/banks.config.js';

export type Grant = { services: Service[] } | { unrequested: Service[] };

/**
 * The services a login's token covers, read from the token response's `scope`. A bank may grant
 * less than was asked (ConnectPay: the PSU unticks a scope and still gets a code); an absent
 * `scope` means exactly what was requested (RFC 6749 5.1). A service counts as granted when every
 * scope configured for it is in the answer; base scopes (Flowe's `offline_access`, …) decide none.
 *
 * A grant wider than this login asked for is not a gift: the code was issued for another login
 * (a code injected into this callback), so it is reported as `unrequested` and never used.
 */
export function grantedServices(bank: Pick<BankConfig, 'services' | 'scopes'>, requested: readonly Service[], scope: string | undefined): Grant {
  if (scope === undefined) return { services: [...requested] };
  const granted = new Set(scope.split(' ').filter(Boolean));
  const services = bank.services.filter((service) => bank.scopes[service].every((s) => granted.has(s)));
  const unrequested = services.filter((service) => !requested.includes(service));
  return unrequested.length > 0 ? { unrequested } : { services };
}
