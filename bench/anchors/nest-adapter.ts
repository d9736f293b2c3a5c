import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CanActivate, Controller, ExecutionContext, Get, Injectable, Module, Param, ParseUUIDPipe, UnauthorizedException, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import helmet from 'helmet';
import { assignRequestId, newRequestId } from '../../src/common/http/request-id.js';

/**
 * The HTTP adapter alone, as an anchor: a minimal Nest app on Express (`ADAPTER=express`, the
 * BFF's `@nestjs/platform-express`) or Fastify (`ADAPTER=fastify`, `@nestjs/platform-fastify`),
 * serving the BFF's stored accounts read without the BFF's work behind it. What is in it is what
 * the framework layer costs per request on the BFF's route, the same code on both adapters:
 *
 * - `GET /api/v1/consents/:id/accounts`: Nest routing, a ParseUUIDPipe on the id (as the BFF's
 *   route), a Nest guard comparing `Authorization` with `Bearer $BENCH_TOKEN` (a string compare in
 *   place of the BFF's JWT check), and the very body the BFF returned (`BODY_FILE`, parsed once and
 *   serialised by the adapter per request, as the BFF's controller returns an object);
 * - the BFF's global middleware that costs on every request, registered with `app.use` on both
 *   (Express's own middleware chain, Fastify's through @fastify/middie, as the BFF's `app.use`
 *   would be after a switch): `assignRequestId` (the BFF's own, X-Request-ID),
 *   helmet with the BFF's options, and `Cache-Control: no-store` on /api/.
 *
 * Not in it: logging (pino-http), metrics, validation of a body, the database, the JWT.
 * Listens on 127.0.0.1:$PORT; `GET /_bench/ready` answers once it listens.
 */
const adapter = process.env.ADAPTER;
if (adapter !== 'express' && adapter !== 'fastify') throw new Error('ADAPTER must be express or fastify');
const token = process.env.BENCH_TOKEN ?? '';
if (!token) throw new Error('BENCH_TOKEN must be set');
const body: unknown = JSON.parse(readFileSync(process.env.BODY_FILE ?? '', 'utf8'));

@Injectable()
class BearerGuard implements CanActivate {
  private readonly expected = `Bearer ${token}`;

  canActivate(context: ExecutionContext): boolean {
    // Both adapters' request objects carry Node's header map as `headers`.
    const { headers } = context.switchToHttp().getRequest<{ headers: IncomingMessage['headers'] }>();
    if (headers.authorization !== this.expected) throw new UnauthorizedException();
    return true;
  }
}

@Controller()
class AnchorController {
  @Get('api/v1/consents/:id/accounts')
  @UseGuards(BearerGuard)
  accounts(@Param('id', new ParseUUIDPipe({ version: '4' })) _id: string): unknown {
    return body;
  }

  @Get('_bench/ready')
  ready(): string {
    return 'ok';
  }
}

@Module({ controllers: [AnchorController], providers: [BearerGuard] })
class AnchorModule {}

/** The BFF's helmet options (configure-app.ts), HSTS off as in the benchmark's plain-HTTP BFF. */
const securityHeaders = helmet({
  frameguard: { action: 'deny' },
  contentSecurityPolicy: { directives: { frameAncestors: ["'none'"], formAction: ["'self'", 'http:', 'https:'] } },
  referrerPolicy: { policy: 'no-referrer' },
  strictTransportSecurity: false,
});

/**
 * The BFF's noStore, on Node's request: the BFF's reads Express's `req.path`, which Fastify's
 * middleware does not get, so the path is cut from `req.url` here, on both adapters alike.
 */
function noStore(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  const path = (query < 0 ? url : url.slice(0, query)).toLowerCase();
  if (path.startsWith('/api/') || path.startsWith('/auth/')) res.setHeader('Cache-Control', 'no-store');
  next();
}

async function create(): Promise<INestApplication> {
  const options = { logger: ['error' as const, 'warn' as const], bodyParser: false };
  if (adapter === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    // The request id as the BFF's adapter assigns it (configure-app.ts): assignRequestId then only echoes it.
    return NestFactory.create(
      AnchorModule,
      new FastifyAdapter({ routerOptions: { caseSensitive: true }, genReqId: newRequestId, requestIdHeader: false }),
      options,
    );
  }
  const { ExpressAdapter } = await import('@nestjs/platform-express');
  const { default: express } = await import('express');
  const instance = express();
  instance.set('case sensitive routing', true);
  instance.disable('x-powered-by');
  return NestFactory.create(AnchorModule, new ExpressAdapter(instance), options);
}

const app = await create();
app.use(assignRequestId);
app.use(securityHeaders);
app.use(noStore);
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
