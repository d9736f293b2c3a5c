import { isIP } from 'node:net';
import type { BankConfig } from '../../config/banks.config.js';

/**
 * The PSU's IP as this bank takes it (Berlin Group `PSU-IP-Address`, `format: ipv4` in the OpenAPI
 * file): an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is the IPv4 address it carries; a native
 * IPv6 address goes as it is to a bank that takes IPv6 (`ipv4-or-ipv6`), and to an `ipv4` bank as
 * the configured fallback (the TPP's own IPv4 egress address) when there is one — otherwise as it
 * is, so a strict bank refuses it visibly instead of the read silently counting as unattended.
 * A zone index (`fe80::1%eth0`) names an interface of our host, never a PSU's address: dropped.
 */
export function psuIpForBank(ip: string, rules: BankConfig['psuIp']): string {
  const unzoned = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip;
  const mapped = /^::ffff:/i.test(unzoned) ? unzoned.slice(7) : undefined;
  if (mapped && isIP(mapped) === 4) return mapped;
  if (isIP(unzoned) === 6 && rules.format === 'ipv4' && rules.ipv6Fallback) return rules.ipv6Fallback;
  return unzoned;
}
