import { isIP } from 'node:net';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * The PSU's IP address, sent to the bank as `PSU-IP-Address` (an attended request). It is Fastify's
 * `request.ip`: the socket address, or the X-Forwarded-For hop that `TRUST_PROXY` says to believe, so
 * a header added by an untrusted client is ignored. IPv4-mapped IPv6 is written as plain IPv4.
 */
export const PsuIp = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const ip = psuIpOf(context.switchToHttp().getRequest<FastifyRequest>());
  // Every HTTP request has a peer address; without one the read would count as unattended.
  if (!ip) throw new Error('no client IP address on the request');
  return ip;
});

export function psuIpOf(req: FastifyRequest): string | undefined {
  const raw = req.ip?.startsWith('::ffff:') && isIP(req.ip.slice(7)) === 4 ? req.ip.slice(7) : req.ip;
  return raw && isIP(raw) !== 0 ? raw : undefined;
}
