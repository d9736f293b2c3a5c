import 'reflect-metadata';
import type { Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { resolveSandboxConfig, type SandboxConfig, type SandboxOptions } from './config.js';
import { localCors } from './psu/local-cors.js';
import { SandboxModule } from './sandbox.module.js';

export interface SandboxApp {
  readonly app: INestApplication;
  readonly config: SandboxConfig;
  /** e.g. http://127.0.0.1:3100 */
  readonly httpUrl: string;
  /** e.g. https://localhost:3101, when a TLS listener was configured. */
  readonly httpsUrl?: string;
  /** Stops both listeners, dropping open (e.g. hanging) connections. */
  close(): Promise<void>;
}

/**
 * Starts the sandbox banks in-process: an HTTP listener and, with `tls`, an HTTPS listener that asks for
 * (but does not insist on) a client certificate; `requireMtls` decides per route what an absent or
 * untrusted certificate means. Ports 0 pick free ports.
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
  const httpServer = app.getHttpServer() as Server;
  const httpUrl = `http://${urlHost(config.host)}:${(httpServer.address() as AddressInfo).port}`;

  let httpsServer: HttpsServer | undefined;
  let httpsUrl: string | undefined;
  if (config.tls !== undefined) {
    const tls = config.tls;
    httpsServer = createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false }, app.getHttpAdapter().getInstance());
    await new Promise<void>((resolve, reject) => {
      httpsServer!.once('error', reject);
      httpsServer!.listen(tls.port ?? 0, config.host, () => resolve());
    });
    // The server certificate names localhost and 127.0.0.1 (see certs.ts).
    const port = (httpsServer.address() as AddressInfo).port;
    httpsUrl = `https://${config.host === '127.0.0.1' || config.host === '0.0.0.0' ? 'localhost' : urlHost(config.host)}:${port}`;
  }

  return {
    app,
    config,
    httpUrl,
    httpsUrl,
    async close() {
      if (httpsServer !== undefined) {
        httpsServer.closeAllConnections();
        await new Promise<void>((resolve) => httpsServer!.close(() => resolve()));
      }
      httpServer.closeAllConnections();
      await app.close();
    },
  };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
