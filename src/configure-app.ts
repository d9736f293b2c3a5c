import type { Server } from 'node:http';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import cookieParser from 'cookie-parser';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { ProblemFilter } from './common/errors/problem.filter.js';
import { problem, sendProblem, type Problem } from './common/errors/problem.js';
import { createValidationPipe } from './common/errors/validation.js';
import { limitJsonDepth, refusePrototypeKeys } from './common/http/json-guards.js';
import { assignRequestId, requestIdOf } from './common/http/request-id.js';
import { MetricsService } from './common/metrics/metrics.service.js';
import { answerFirst, answerLiveness, constantHeaders } from './health/liveness.js';
import { appConfig, opsConfig } from './config/index.js';
import { createOpenApiDocument } from './openapi/openapi-document.js';
import { opsAccess } from './ops/ops-access.js';
import type { ConfigOf } from './config/define-config.js';

/**
 * The HTTP adapter every BFF app is created with (main.ts and the test app). Routing is
 * case-sensitive: `/API/v1/me` is not `/api/v1/me`, so it is a 404 rather than a second spelling
 * of a route that path-based guards might not recognise. Express reads the setting once, when it
 * builds its router, so it is set before anything is registered.
 */
export function createHttpAdapter(): ExpressAdapter {
  const instance = express();
  instance.set('case sensitive routing', true);
  return new ExpressAdapter(instance);
}

/**
 * The HTTP pipeline, shared by main.ts and every test app so tests exercise exactly what runs in
 * production: security headers, body limits, problem+json errors, validation, OpenAPI.
 */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get<ConfigOf<typeof appConfig>>(appConfig.KEY);
  const filter = new ProblemFilter();

  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('query parser', 'simple');

  const securityHeaders = helmet({
    // The pages this service serves (auth redirects, the demo) must never be framed: the PSU
    // has to see the bank's address bar (ConnectPay document) and clickjacking is ruled out.
    frameguard: { action: 'deny' },
    contentSecurityPolicy: { directives: { frameAncestors: ["'none'"], formAction: ["'self'", 'http:', 'https:'] } },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: config.secureCookies,
  });
  const liveness = answerLiveness(constantHeaders(securityHeaders), app.get(MetricsService).httpDuration);
  answerFirst(app.getHttpServer() as Server, liveness);
  app.use(liveness);
  app.use(assignRequestId);
  app.use(securityHeaders);
  // Metrics and the API docs are not public in production (opsConfig): before anything else serves them.
  app.use(opsAccess(app.get<ConfigOf<typeof opsConfig>>(opsConfig.KEY)));
  app.use(noStore);
  app.use(requireJsonBody);
  app.useBodyParser('json', { limit: config.bodyLimit, strict: true, reviver: refusePrototypeKeys });
  // The bank login's confirmation page posts a two-field form; nothing else takes a form.
  app.use('/auth', express.urlencoded({ extended: false, limit: '2kb', parameterLimit: 4 }));
  // Body-parser failures (bad JSON, too large, a body that does not decode) happen before Nest's
  // routing: map them here.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    sendProblem(res, undecodableBody(err, requestIdOf(req)) ?? filter.toProblem(err, requestIdOf(req)));
  });
  app.use(limitJsonDepth);
  app.use(cookieParser());
  if (config.corsOrigins.length > 0) {
    app.enableCors({ origin: config.corsOrigins, credentials: false, exposedHeaders: ['X-Request-ID', 'Location', 'Retry-After', 'Idempotent-Replayed'] });
  }

  app.useGlobalFilters(filter);
  app.useGlobalPipes(createValidationPipe());
  setupOpenApi(app);
}

/**
 * The path as the guards below compare it: lower case. Routing is case-sensitive in the apps this
 * service creates (createHttpAdapter), but a guard must never depend on that: if any app routed
 * `/API/v1/me` to `/api/v1/me`, the guard still sees an API path.
 */
const guardPath = (req: Request): string => req.path.toLowerCase();

/** Personal financial data and auth redirects must never be cached by a browser or a proxy. */
function noStore(req: Request, res: Response, next: NextFunction): void {
  const path = guardPath(req);
  if (path.startsWith('/api/') || path.startsWith('/auth/')) res.setHeader('Cache-Control', 'no-store');
  next();
}

/** A body on the JSON API must say it is JSON (415 otherwise), so no form post is ever parsed. */
function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && guardPath(req).startsWith('/api/') && !req.is('application/json')) {
    return sendProblem(res, problem('unsupported_media_type', { requestId: requestIdOf(req) }));
  }
  next();
}

/**
 * A body that does not decode under its own `Content-Encoding` (gzip, deflate or br that is not):
 * the body parser passes zlib's error on with status 400 but without a body-parser `type`. It is
 * the client's mistake, never a 500.
 */
function undecodableBody(err: unknown, requestId: string): Problem | undefined {
  const { status, type, code } = (err ?? {}) as { status?: unknown; type?: unknown; code?: unknown };
  if (status !== 400 || type !== undefined || typeof code !== 'string') return undefined;
  return problem('validation_failed', {
    detail: 'The request body could not be decoded: it does not match its Content-Encoding',
    requestId,
    extensions: { errors: [{ field: 'header:Content-Encoding', message: 'does not match the body' }] },
  });
}

function setupOpenApi(app: NestExpressApplication): void {
  SwaggerModule.setup('docs', app, createOpenApiDocument(app), { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
