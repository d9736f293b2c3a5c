import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { ProblemFilter } from './common/errors/problem.filter.js';
import { problem, sendProblem } from './common/errors/problem.js';
import { ProblemDetails } from './common/errors/problem.view.js';
import { createValidationPipe } from './common/errors/validation.js';
import { limitJsonDepth, refusePrototypeKeys } from './common/http/json-guards.js';
import { assignRequestId, requestIdOf } from './common/http/request-id.js';
import { appConfig } from './config/index.js';
import type { ConfigOf } from './config/define-config.js';

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

  app.use(assignRequestId);
  app.use(
    helmet({
      // The pages this service serves (auth redirects, the demo) must never be framed: the PSU
      // has to see the bank's address bar (ConnectPay document) and clickjacking is ruled out.
      frameguard: { action: 'deny' },
      contentSecurityPolicy: { directives: { frameAncestors: ["'none'"], formAction: ["'self'", 'http:', 'https:'] } },
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: config.secureCookies,
    }),
  );
  app.use(noStore);
  app.use(requireJsonBody);
  app.useBodyParser('json', { limit: config.bodyLimit, strict: true, reviver: refusePrototypeKeys });
  // Body-parser failures (bad JSON, too large) happen before Nest's routing: map them here.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    sendProblem(res, filter.toProblem(err, requestIdOf(req)));
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

/** Personal financial data and auth redirects must never be cached by a browser or a proxy. */
function noStore(req: Request, res: Response, next: NextFunction): void {
  if (req.path.startsWith('/api/') || req.path.startsWith('/auth/')) res.setHeader('Cache-Control', 'no-store');
  next();
}

/** A body on the JSON API must say it is JSON (415 otherwise), so no form post is ever parsed. */
function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && req.path.startsWith('/api/') && !req.is('application/json')) {
    return sendProblem(res, problem('unsupported_media_type', { requestId: requestIdOf(req) }));
  }
  next();
}

function setupOpenApi(app: NestExpressApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('tpp-bff')
      .setDescription('Backend-for-frontend of a PSD2 TPP: bank connections, accounts (AIS), payments (PIS). Errors are application/problem+json (RFC 9457).')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'user')
      .build(),
    // The whole error catalogue, whether or not a route lists a code.
    { extraModels: [ProblemDetails] },
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
