/**
 * The API contract check: every answer the suites receive from a test BFF is recorded (status,
 * headers, body) and checked against the committed OpenAPI document, specs/tpp-bff.openapi.json
 * (itself checked against what /docs-json serves: test/contract/openapi-file.spec.ts). An
 * undocumented status, header, media type or body shape fails the suite that received it
 * (test/support/contract-check.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import * as ajvFormatsModule from 'ajv-formats';
import type { IncomingMessage, ServerResponse } from 'node:http';

type Request = IncomingMessage & { originalUrl: string };
type Response = ServerResponse;
type NextFunction = () => void;

export const OPENAPI_FILE = fileURLToPath(new URL('../../specs/tpp-bff.openapi.json', import.meta.url));

export interface RecordedResponse {
  method: string;
  /** Path without the query string. */
  path: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Json = Record<string, unknown>;
interface Operation {
  responses: Record<string, { headers?: Record<string, { required?: boolean; schema?: Json }>; content?: Record<string, { schema?: Json }> }>;
}

/**
 * Headers every answer may carry without the document naming them: HTTP framing and caching,
 * the security headers the pipeline sets (helmet), CORS, and proxy hints. Anything else is API.
 */
const TRANSPORT_HEADERS = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'etag',
  'vary',
  'cache-control',
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
  'x-accel-buffering',
]);
const isTransportHeader = (name: string) => TRANSPORT_HEADERS.has(name) || name.startsWith('access-control-');

const MAX_BODY = 2 * 1024 * 1024;
const recorded: RecordedResponse[] = [];

/**
 * Express middleware (first in the pipeline): keeps a copy of every answer the app sends on its API
 * port. The ops listener (OPS_PORT) serves only metrics, docs and health, and answers 404 to
 * everything else: it is not the API the document describes.
 */
export const recordResponses =
  (apiPort: number) =>
  (req: Request, res: Response, next: NextFunction): void => {
    if (req.socket.localPort !== apiPort) return next();
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > MAX_BODY) return;
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      size += buffer.length;
      chunks.push(buffer);
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    res.write = ((chunk: unknown, ...rest: unknown[]) => (keep(chunk, rest[0]), write(chunk, ...rest))) as Response['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => (keep(chunk, rest[0]), end(chunk, ...rest))) as Response['end'];
    const path = req.originalUrl.split('?')[0];
    res.once('close', () => {
      if (!res.headersSent) return;
      const headers = Object.fromEntries(Object.entries(res.getHeaders()).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)]));
      recorded.push({
        method: (req.method ?? '').toLowerCase(),
        path,
        status: res.statusCode,
        headers,
        body: size > MAX_BODY ? '' : Buffer.concat(chunks).toString('utf8'),
      });
    });
    next();
  };

/** The answers recorded so far in this test file, and forgets them. */
export function takeRecorded(): RecordedResponse[] {
  return recorded.splice(0, recorded.length);
}

interface Contract {
  doc: Json;
  ajv: Ajv2020;
  routes: { method: string; pattern: RegExp; template: string; op: Operation }[];
  validators: Map<string, ValidateFunction>;
}

let loaded: Contract | undefined;

/** The committed document, with its `#/components/…` references made resolvable from any schema. */
export function loadContract(doc: Json = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Json): Contract {
  if (loaded && loaded.doc === doc) return loaded;
  const resolvable = JSON.parse(JSON.stringify(doc).replaceAll('"#/components/', '"tpp-bff#/components/')) as Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true, verbose: true, logger: false });
  addFormats(ajv);
  ajv.addSchema({ $id: 'tpp-bff', components: resolvable.components });
  const routes = Object.entries(resolvable.paths as Record<string, Record<string, Operation>>).flatMap(([template, item]) =>
    Object.entries(item).map(([method, op]) => ({ method, template, op, pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`) })),
  );
  loaded = { doc, ajv, routes, validators: new Map() };
  return loaded;
}

function addFormats(ajv: Ajv2020): void {
  // ajv-formats is CommonJS: its plugin is the default export (or under `.default`).
  const mod = ajvFormatsModule as unknown as { default?: unknown };
  const plugin = (typeof mod.default === 'function' ? mod.default : ((mod.default as { default?: unknown } | undefined)?.default ?? mod)) as (
    a: Ajv2020,
  ) => Ajv2020;
  plugin(ajv);
}

function validatorFor(contract: Contract, key: string, schema: Json): ValidateFunction {
  let validate = contract.validators.get(key);
  if (!validate) {
    validate = contract.ajv.compile(schema);
    contract.validators.set(key, validate);
  }
  return validate;
}

const describeErrors = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? [])
    .map(
      (e) =>
        `${e.instancePath || '(body)'} ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}${e.keyword === 'enum' || e.keyword === 'format' || e.keyword === 'pattern' ? ` (${JSON.stringify(e.data)})` : ''}`,
    )
    .join('; ');

/** What is wrong with one answer, judged by the document: empty when it is as documented. */
export function contractViolations(r: RecordedResponse, contract: Contract = loadContract()): string[] {
  // Literal segments win over templates (`/api/v1/consents` before `/api/v1/{x}`), as in the router.
  const route = contract.routes
    .filter((c) => c.method === r.method && c.pattern.test(r.path))
    .sort((a, b) => b.template.replace(/\{[^}]+\}/g, '').length - a.template.replace(/\{[^}]+\}/g, '').length)[0];
  // Routes the document does not describe (bank login redirects, pages, metrics) are not API.
  if (!route) return [];
  const where = `${r.method.toUpperCase()} ${r.path} → ${r.status}`;
  const response = route.op.responses[String(r.status)] ?? route.op.responses[`${String(r.status)[0]}XX`] ?? route.op.responses.default;
  if (!response) return [`${where}: status ${r.status} is not documented for ${r.method.toUpperCase()} ${route.template}`];

  const problems: string[] = [];
  const documented = Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, h]) => [name.toLowerCase(), h]));
  for (const [name, value] of Object.entries(r.headers)) {
    if (isTransportHeader(name)) continue;
    const header = documented[name];
    if (!header) problems.push(`${where}: header ${name} is not documented`);
    else if (header.schema && !validatorFor(contract, `${route.template} ${r.method} ${r.status} header ${name}`, header.schema)(value)) {
      problems.push(`${where}: header ${name}: ${JSON.stringify(value)} does not match its schema`);
    }
  }
  for (const [name, header] of Object.entries(documented))
    if (header.required && !(name in r.headers)) problems.push(`${where}: required header ${name} is missing`);

  const mediaType = (r.headers['content-type'] ?? '').split(';')[0].trim();
  if (!response.content) {
    if (r.body.length > 0) problems.push(`${where}: a body (${mediaType || 'no content type'}) where none is documented`);
    return problems;
  }
  const content = response.content[mediaType];
  if (!content) return [...problems, `${where}: media type ${JSON.stringify(mediaType)} is not documented (${Object.keys(response.content).join(', ')})`];
  const schemaKey = `${route.template} ${r.method} ${r.status} ${mediaType}`;
  if (mediaType === 'text/event-stream') return [...problems, ...eventStreamViolations(where, r.body, content.schema, contract, schemaKey)];
  // An image or another opaque body: its documented media type is all there is to check.
  if (!/[/+]json$/.test(mediaType)) return problems;
  let body: unknown;
  try {
    body = JSON.parse(r.body);
  } catch {
    return [...problems, `${where}: the body is not JSON`];
  }
  const validate = validatorFor(contract, schemaKey, content.schema ?? {});
  if (!validate(body)) problems.push(`${where}: ${describeErrors(validate.errors)}`);
  return problems;
}

/** Each SSE frame's `data:` must match the schema its `event:` names under `x-sse-events`. */
function eventStreamViolations(where: string, body: string, schema: Json | undefined, contract: Contract, key: string): string[] {
  const events = (schema?.['x-sse-events'] ?? {}) as Record<string, Json>;
  const problems: string[] = [];
  for (const frame of body.split('\n\n')) {
    const lines = frame.split('\n');
    const event = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length);
    const data = lines.find((l) => l.startsWith('data: '))?.slice('data: '.length);
    if (event === undefined && data === undefined) continue;
    if (event === undefined || !(event in events)) {
      problems.push(`${where}: SSE event ${JSON.stringify(event)} is not documented`);
      continue;
    }
    const validate = validatorFor(contract, `${key} ${event}`, events[event]);
    let parsed: unknown;
    try {
      parsed = JSON.parse(data ?? '');
    } catch {
      problems.push(`${where}: SSE ${event} data is not JSON`);
      continue;
    }
    if (!validate(parsed)) problems.push(`${where}: SSE ${event}: ${describeErrors(validate.errors)}`);
  }
  return problems;
}
