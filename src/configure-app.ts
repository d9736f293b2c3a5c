import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import proxyAddr from 'proxy-addr';
import { AppError } from './common/errors/app-error.js';
import { ProblemFilter } from './common/errors/problem.filter.js';
import { problem, sendProblem } from './common/errors/problem.js';
import { createValidationPipe } from './common/errors/validation.js';
import { assertJsonDepth, refusePrototypeKeys } from './common/http/json-guards.js';
import { charsetOf, mediaTypeOf } from './common/http/media-type.js';
import { assignRequestId, newRequestId, requestIdOf } from './common/http/request-id.js';
import { MetricsService } from './common/metrics/metrics.service.js';
import { answerFirst, answerLiveness, constantHeaders } from './health/liveness.js';
import { appConfig, opsConfig } from './config/index.js';
import { createOpenApiDocument } from './openapi/openapi-document.js';
import { opsAccess } from './ops/ops-access.js';
import type { ConfigOf } from './config/define-config.js';

/** Which proxy hops are believed for X-Forwarded-For (TRUST_PROXY), per adapter. */
type TrustHop = (address: string, hop: number) => boolean;
const trustSettings = new WeakMap<FastifyAdapter, { trust: TrustHop }>();

/**
 * The HTTP adapter every BFF app is created with (main.ts, the test app and the OpenAPI export):
 * Fastify. Routing is case-sensitive (Fastify's default, kept explicit): `/API/v1/me` is not
 * `/api/v1/me`, so it is a 404 rather than a second spelling of a route that path-based guards
 * might not recognise. The request id is Fastify's own (`request.id`), taken from a well-formed
 * X-Request-ID or a new UUID, so every log line and problem body of a request names the same id.
 * Node's own server timeouts are kept (Fastify would turn the request timeout off and keep idle
 * connections 72 s instead of 5 s).
 */
export function createHttpAdapter(): FastifyAdapter {
  // Fastify takes its trust function when the instance is created, before configureApp can read
  // TRUST_PROXY from the app: it asks this setting, which trusts no hop until configureApp sets it.
  const setting: { trust: TrustHop } = { trust: () => false };
  const adapter = new FastifyAdapter({
    routerOptions: { caseSensitive: true, ignoreTrailingSlash: false },
    trustProxy: (address: string, hop: number) => setting.trust(address, hop),
    genReqId: newRequestId,
    requestIdHeader: false,
    requestTimeout: 300_000,
    keepAliveTimeout: 5_000,
    // No Fastify logger: pino-http (nestjs-pino) logs every request, as before.
    logger: false,
  });
  trustSettings.set(adapter, setting);
  return adapter;
}

/**
 * Express's reading of TRUST_PROXY, which proxy-addr implements for both: `true` trusts every hop, a
 * number that many hops from the socket, and a list the addresses and subnets it names.
 */
function compileTrust(value: boolean | number | string): TrustHop {
  if (value === true) return () => true;
  if (value === false) return () => false;
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return proxyAddr.compile(value.split(',').map((entry) => entry.trim()));
}

/** BODY_LIMIT (`100kb`, `1mb`, `512b`) in bytes, with the units body-parser gave it (1 kb = 1024 b). */
export function bytesOf(limit: string): number {
  const match = /^(\d+)(b|kb|mb)$/i.exec(limit);
  if (!match) throw new Error(`not a size: ${limit}`);
  const unit = { b: 1, kb: 1024, mb: 1024 * 1024 }[match[2]!.toLowerCase() as 'b' | 'kb' | 'mb'];
  return Number(match[1]) * unit;
}

/**
 * The HTTP pipeline, shared by main.ts and every test app so tests exercise exactly what runs in
 * production: security headers, body limits, problem+json errors, validation, OpenAPI.
 */
export function configureApp(app: NestFastifyApplication): void {
  const config = app.get<ConfigOf<typeof appConfig>>(appConfig.KEY);
  const adapter = app.getHttpAdapter() as FastifyAdapter;
  const fastify = adapter.getInstance() as unknown as FastifyInstance;
  const trust = trustSettings.get(adapter);
  if (!trust) throw new Error('The BFF app must be created with createHttpAdapter()');
  trust.trust = compileTrust(config.trustProxy);

  app.useLogger(app.get(Logger));

  const securityHeaders = helmet({
    // The pages this service serves (auth redirects, the demo) must never be framed: the PSU
    // has to see the bank's address bar (ConnectPay document) and clickjacking is ruled out.
    frameguard: { action: 'deny' },
    contentSecurityPolicy: { directives: { frameAncestors: ["'none'"], formAction: ["'self'", 'http:', 'https:'] } },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: config.secureCookies,
  });
  const metrics = app.get(MetricsService);
  const liveness = answerLiveness(constantHeaders(securityHeaders), metrics.httpDuration);
  answerFirst(app.getHttpServer() as Server, liveness);
  countRequests(fastify, metrics);
  // The middleware below runs through @fastify/middie on Node's request and response, in an
  // onRequest hook: before the body is read, for matched and unmatched routes alike.
  app.use(liveness);
  app.use(assignRequestId);
  app.use(securityHeaders);
  // Metrics and the API docs are not public in production (opsConfig): before anything else serves them.
  app.use(opsAccess(app.get<ConfigOf<typeof opsConfig>>(opsConfig.KEY)));
  app.use(noStore);
  app.use(requireJsonBody);
  parseBodies(fastify, bytesOf(config.bodyLimit));
  void fastify.register(fastifyCookie);
  // Only for DemoController's reply.sendFile (ETag, Last-Modified, 304s, no dotfiles); it serves nothing by itself.
  void fastify.register(fastifyStatic, { root: process.cwd(), serve: false, dotfiles: 'deny', etag: true, lastModified: true });
  if (config.corsOrigins.length > 0) {
    app.enableCors({ origin: config.corsOrigins, credentials: false, exposedHeaders: ['X-Request-ID', 'Location', 'Retry-After', 'Idempotent-Replayed'] });
  }

  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalPipes(createValidationPipe());
  setupOpenApi(app);
}

/**
 * The path as the guards below compare it: without the query, lower case. Routing is
 * case-sensitive in the apps this service creates (createHttpAdapter), but a guard must never
 * depend on that: if any app routed `/API/v1/me` to `/api/v1/me`, the guard still sees an API path.
 */
export const guardPath = (req: IncomingMessage): string => (req.url ?? '/').split('?', 1)[0]!.toLowerCase();

/** Personal financial data and auth redirects must never be cached by a browser or a proxy. */
function noStore(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const path = guardPath(req);
  if (path.startsWith('/api/') || path.startsWith('/auth/')) res.setHeader('Cache-Control', 'no-store');
  next();
}

/**
 * A body on the JSON API must say it is JSON (415 otherwise), so no form post is ever parsed; and
 * JSON is UTF-8 (RFC 8259), so a body declaring another charset is refused rather than misread.
 */
function requireJsonBody(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && guardPath(req).startsWith('/api/')) {
    if (mediaTypeOf(req) !== 'application/json') return sendProblem(res, problem('unsupported_media_type', { requestId: requestIdOf(req) }));
    const charset = charsetOf(req);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return sendProblem(
        res,
        problem('unsupported_media_type', { requestId: requestIdOf(req), detail: `JSON bodies must be UTF-8, not ${charset.toUpperCase()}` }),
      );
    }
  }
  next();
}

/** Every request in the duration histogram, labelled by route pattern (never the raw path, which holds ids). */
function countRequests(fastify: FastifyInstance, metrics: MetricsService): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const end = metrics.httpDuration.startTimer();
    // Node's response, not Fastify's onResponse: streams and answers written by middleware count too.
    reply.raw.once('finish', () => {
      const route = request.is404 ? undefined : request.routeOptions.url;
      end({ method: request.method, route: route ?? 'unmatched', status: String(reply.raw.statusCode) });
    });
    done();
  });
}

/**
 * The bodies this service reads: JSON (BODY_LIMIT, objects and arrays only, no prototype keys, at
 * most MAX_JSON_DEPTH deep), and the bank login's two-field confirmation form under `/auth`. A
 * body compressed with gzip, deflate or br is decompressed first, the limit counting the
 * decompressed bytes. Every refusal becomes problem+json in ProblemFilter.
 */
function parseBodies(fastify: FastifyInstance, bodyLimit: number): void {
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    try {
      done(null, decoded(request, payload));
    } catch (error) {
      done(error as Error);
    }
  });
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (request, body, done) => {
    const text = (body as string).trim();
    // body-parser: an empty JSON body is an empty object.
    if (text === '') return done(null, {});
    if (text[0] !== '{' && text[0] !== '[') return done(parseFailure());
    let value: unknown;
    try {
      value = JSON.parse(text, refusePrototypeKeys);
    } catch {
      return done(parseFailure());
    }
    try {
      assertJsonDepth(value);
    } catch (error) {
      return done(error as Error);
    }
    done(null, value);
  });
  // The bank login's confirmation page posts a two-field form; nothing else takes a form.
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 2048 }, (request, body, done) => {
    if (!guardPath(request.raw).startsWith('/auth/')) return done(null, undefined);
    const params = new URLSearchParams(body as string);
    if ([...params.keys()].length > 4) return done(Object.assign(new Error('too many parameters'), { type: 'parameters.too.many', status: 413 }));
    done(null, Object.fromEntries(params));
  });
  // Any other media type is taken as it is and left unread: the routes that take no body ignore
  // it, and the ones that do refuse it (requireJsonBody, confirmationFormOf).
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
}

/** The same refusal as body-parser's, so ProblemFilter answers `malformed_json`. */
const parseFailure = () => Object.assign(new SyntaxError('The request body is not valid JSON'), { type: 'entity.parse.failed', status: 400 });

const DECOMPRESSORS: Record<string, () => Transform> = { gzip: createGunzip, deflate: createInflate, br: createBrotliDecompress };

/**
 * The body as its Content-Encoding says to read it. A body that does not decode is the client's
 * mistake (400), and an encoding this service does not know is a 415, as body-parser answered.
 */
function decoded(request: FastifyRequest, payload: Readable): Readable {
  const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity') return payload;
  const decompressor = DECOMPRESSORS[encoding];
  if (!decompressor) throw new AppError('unsupported_media_type', `Content-Encoding ${encoding} is not supported`);
  const inflate = decompressor();
  const output = new PassThrough() as PassThrough & { receivedEncodedLength: number };
  // Fastify compares the bytes received with Content-Length: those are the compressed ones.
  output.receivedEncodedLength = 0;
  payload.on('data', (chunk: Buffer) => (output.receivedEncodedLength += chunk.length));
  inflate.once('error', () => output.destroy(Object.assign(new Error('The request body could not be decoded'), { undecodable: true })));
  payload.pipe(inflate).pipe(output);
  return output;
}

function setupOpenApi(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, createOpenApiDocument(app), { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
