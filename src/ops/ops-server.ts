import { createServer, type Server } from 'node:http';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { ConfigOf } from '../config/define-config.js';
import { opsConfig } from '../config/ops.config.js';
import { markOpsRequest } from './ops-access.js';

/**
 * The ops listener (OPS_PORT): a second HTTP server in front of the same app, so metrics and the
 * API docs can be scraped and read on a port the public never reaches. Its requests are marked, and
 * `opsAccess` lets them reach the ops surface and the health checks only.
 */
@Injectable()
export class OpsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Ops');
  private server?: Server;

  constructor(
    @Inject(opsConfig.KEY) private readonly config: ConfigOf<typeof opsConfig>,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const listener = this.config.listener;
    if (!listener) return;
    // Fastify's router, the request listener of the main server, serves this one too.
    const app = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const server = createServer((req, res) => {
      markOpsRequest(req);
      app.routing(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new Error(`OPS_PORT ${listener.port} on OPS_HOST ${listener.host} cannot be opened (${error.code ?? 'error'})`)),
      );
      server.listen(listener.port, listener.host, resolve);
    });
    this.server = server;
    this.logger.log({ host: listener.host, port: listener.port, token: this.config.token !== undefined }, 'ops surface (metrics, API docs, health) listening');
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }
}
