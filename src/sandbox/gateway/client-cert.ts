import { TLSSocket } from 'node:tls';
import type { Request } from 'express';
import type { SandboxConfig } from '../config.js';
import type { ClientCertState } from './request-context.js';

/**
 * The TLS listener runs with `requestCert: true, rejectUnauthorized: false`, so a handshake never fails
 * on the client certificate; the verdict is read here: `socket.authorized` is true only for a certificate
 * that chains to the configured CA.
 */
export function clientCertState(req: Request): ClientCertState {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) return 'none';
  const cert = socket.getPeerCertificate();
  if (cert === null || typeof cert !== 'object' || Object.keys(cert).length === 0) return 'none';
  return socket.authorized ? 'verified' : 'unverified';
}

/** Origin for absolute URLs: the configured public URL, else the one the request came in on. */
export function requestOrigin(req: Request, config: SandboxConfig): string {
  return config.publicUrl ?? `${req.protocol}://${req.get('host') ?? `${config.host}:${config.port}`}`;
}
