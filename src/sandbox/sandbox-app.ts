import 'reflect-metadata';
import type { Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { PROFILES, resolveSandboxConfig, type Profile, type SandboxConfig, type SandboxOptions, type SandboxTlsOptions } from './config.js';
import { ConfigFaultsService, type TlsFault } from './faults/config-faults.service.js';
import { localCors } from './psu/local-cors.js';
import { SandboxModule } from './sandbox.module.js';

export interface SandboxApp {
  readonly app: INestApplication;
  readonly config: SandboxConfig;
  /** e.g. http://127.0.0.1:3100 */
  readonly httpUrl: string;
  /** e.g. https://localhost:3101, when a TLS listener was configured. */
  readonly httpsUrl?: string;
  /**
   * One more TLS listener per bank (same routes), where `tls: "refuse-handshake"` fails the handshake
   * itself; present when `tls` is configured.
   */
  readonly bankHttpsUrls?: Readonly<Record<Profile, string>>;
  /** Stops both listeners, dropping open (e.g. hanging) connections. */
  close(): Promise<void>;
}

/**
 * Starts the sandbox banks in-process: an HTTP listener and, with `tls`, a shared HTTPS listener plus
 * one per bank, each asking for (but not insisting on) a client certificate; the bank's `requireMtls`
 * mode decides per route what an absent or untrusted certificate means. Ports 0 pick free ports.
 */
export async function createSandboxApp(options: SandboxOptions = {}): Promise<SandboxApp> {
  const config = resolveSandboxConfig(options);
  const app = await NestFactory.create<NestExpressApplication>(SandboxModule.register(config), new ExpressAdapter(), {
    logger: config.logger,
    forceCloseConnections: true,
  });
  app.disable('x-powered-by');
  app.use('/psu/api', localCors);
  app.use('/admin', localCors);
  await app.listen(config.port, config.host);
  const httpServer = keepIdleConnections(app.getHttpServer() as Server);
  const httpUrl = `http://${urlHost(config.host)}:${(httpServer.address() as AddressInfo).port}`;

  const servers: HttpsServer[] = [];
  let httpsUrl: string | undefined;
  let bankHttpsUrls: Record<Profile, string> | undefined;
  if (config.tls !== undefined) {
    const tls = config.tls;
    const listener = app.getHttpAdapter().getInstance();
    const shared = await listenTls(tls, listener, tls.port ?? 0, config.host);
    servers.push(shared);
    httpsUrl = tlsUrl(config.host, shared);
    bankHttpsUrls = {} as Record<Profile, string>;
    const own = new Map<Profile, HttpsServer>();
    for (const profile of PROFILES) {
      const server = await listenTls(tls, listener, tls.bankPorts?.[profile] ?? 0, config.host);
      servers.push(server);
      own.set(profile, server);
      bankHttpsUrls[profile] = tlsUrl(config.host, server);
    }
    app.get(ConfigFaultsService).tlsChanges.on('change', (profile, fault) => setHandshakePolicy(own.get(profile)!, tls, fault));
  }

  return {
    app,
    config,
    httpUrl,
    httpsUrl,
    bankHttpsUrls,
    async close() {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      httpServer.closeAllConnections();
      await app.close();
    },
  };
}

/** Asks for (never insists on) a client certificate; the gateway decides what an absent or untrusted one means. */
/**
 * Banks sit behind load balancers that keep an idle connection for about a minute. Node's 5 s
 * default lets the server close a kept-alive socket just as a busy client reuses it (ECONNRESET).
 */
function keepIdleConnections<T extends Server | HttpsServer>(server: T): T {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}

async function listenTls(tls: SandboxTlsOptions, listener: Parameters<typeof createHttpsServer>[1], port: number, host: string): Promise<HttpsServer> {
  const server = keepIdleConnections(createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false }, listener));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

/**
 * `refuse-handshake`: the listener offers only a signature algorithm (Ed448) its RSA or ECDSA key
 * cannot sign with, so every handshake ends in a fatal `handshake_failure` alert before any HTTP — as a
 * bank gateway that no longer accepts the TPP's certificate fails it. (Node's own `rejectUnauthorized`
 * would let a TLS 1.3 handshake complete and close the socket afterwards, which a client cannot tell
 * from a reset.) Open connections are closed so the client has to shake hands again.
 */
function setHandshakePolicy(server: HttpsServer, tls: SandboxTlsOptions, fault: TlsFault): void {
  const refuse = fault === 'refuse-handshake';
  server.setSecureContext({ cert: tls.cert, key: tls.key, ca: tls.ca, ...(refuse ? { sigalgs: 'ed448' } : {}) });
  if (refuse) server.closeAllConnections();
}

/** The server certificate names localhost and 127.0.0.1 (see certs.ts). */
function tlsUrl(host: string, server: HttpsServer): string {
  const port = (server.address() as AddressInfo).port;
  return `https://${host === '127.0.0.1' || host === '0.0.0.0' ? 'localhost' : urlHost(host)}:${port}`;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
