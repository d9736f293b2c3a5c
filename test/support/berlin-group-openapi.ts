/**
 * Validates Berlin Group NextGenPSD2 request and response bodies against the official OpenAPI 3.0
 * definition (psd2-api_v1.3.12.yaml), with ajv. Shared by the sandbox's and the BFF's tests.
 *
 *   assertBerlinGroupResponse('GET', '/v1/accounts/{account-id}/transactions', 200, body);
 *   const result = validateBerlinGroupRequest('POST', '/v1/consents', consentBody);
 *
 * Spec paths are the definition's templates, e.g. `/v1/consents/{consentId}`,
 * `/v1/{payment-service}/{payment-product}/{paymentId}/status`; `berlinGroupSpecPath()` maps a concrete
 * URL path (with any bank prefix before `/v1/`) to its template.
 *
 * The YAML is looked up in BERLIN_GROUP_OPENAPI_FILE, then `<repo>/specs/` (the repository's copy
 * of the specification), then `<repo>/test/support/`. It is parsed once per test file; validators
 * compile lazily and are cached.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import * as ajvFormatsModule from 'ajv-formats';
import { load } from 'js-yaml';

export interface BerlinGroupValidation {
  readonly valid: boolean;
  /** Human-readable problems, empty when valid. */
  readonly errors: readonly string[];
}

type Json = Record<string, unknown>;

const SPEC_FILE = 'psd2-api_v1.3.12.yaml';
const SCHEMA_ID = 'https://berlin-group.example/psd2-api-1.3.12.json';
const HTTP_METHODS = ['get', 'post', 'put', 'delete', 'patch'];

let loaded: { spec: Json; ajv: Ajv; templates: string[] } | undefined;
const validators = new Map<string, ValidateFunction>();

function repoRoot(): string {
  return fileURLToPath(new URL('../..', import.meta.url));
}

/** Where the YAML was found (throws with the places looked at when it is missing). */
export function berlinGroupSpecFile(): string {
  const candidates = [process.env.BERLIN_GROUP_OPENAPI_FILE, join(repoRoot(), 'specs', SPEC_FILE), join(repoRoot(), 'test', 'support', SPEC_FILE)].filter(
    (c): c is string => c !== undefined && c !== '',
  );
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) throw new Error(`Berlin Group OpenAPI file not found; looked in: ${candidates.join(', ')}`);
  return found;
}

function state(): { spec: Json; ajv: Ajv; templates: string[] } {
  if (loaded !== undefined) return loaded;
  const spec = load(withoutExampleSection(readFileSync(berlinGroupSpecFile(), 'utf8'))) as Json;
  const components = spec.components as Json;
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  // OpenAPI's `url` format (used for Location headers) is not a JSON Schema format.
  ajv.addFormat('url', true);
  ajv.addSchema({ $id: SCHEMA_ID, components: { schemas: mapValues(components.schemas as Json, toJsonSchema) } });
  loaded = { spec, ajv, templates: Object.keys(spec.paths as Json) };
  return loaded;
}

/**
 * `components.examples` (the file's last section) holds flow-style JSON samples whose closing braces are
 * indented less than YAML allows; js-yaml 5 rejects them. Validation never needs the samples, so the
 * section is cut before parsing.
 */
function withoutExampleSection(text: string): string {
  const components = text.search(/^components:\s*$/m);
  const examples = text.slice(components).search(/^ {2}examples:\s*$/m);
  return components < 0 || examples < 0 ? text : text.slice(0, components + examples);
}

function addFormats(ajv: Ajv): void {
  // ajv-formats is CommonJS: its default export is the plugin function (or under `.default`).
  const mod = ajvFormatsModule as unknown as { default?: unknown };
  const plugin = (typeof mod.default === 'function' ? mod.default : ((mod.default as { default?: unknown } | undefined)?.default ?? mod)) as (a: Ajv) => Ajv;
  plugin(ajv);
}

/**
 * OpenAPI 3.0 Schema Object → JSON Schema (draft-07, ajv): drop annotation-only keywords, turn boolean
 * exclusiveMinimum/Maximum into numbers, `nullable` into a type union, and make `$ref`s absolute.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (typeof node !== 'object' || node === null) return node;
  const src = node as Json;
  const out: Json = {};
  for (const [key, value] of Object.entries(src)) {
    if (['example', 'examples', 'xml', 'externalDocs', 'discriminator', 'nullable', 'deprecated'].includes(key)) continue;
    if (key === '$ref' && typeof value === 'string') out.$ref = value.startsWith('#/') ? SCHEMA_ID + value : value;
    else if (key === 'properties' || key === 'patternProperties') out[key] = mapValues(value as Json, toJsonSchema);
    else if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') {
      if (value === true) {
        const bound = key === 'exclusiveMinimum' ? 'minimum' : 'maximum';
        out[key] = src[bound];
      } else if (typeof value === 'number') out[key] = value;
    } else out[key] = toJsonSchema(value);
  }
  if (src.exclusiveMinimum === true) delete out.minimum;
  if (src.exclusiveMaximum === true) delete out.maximum;
  if (src.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

function mapValues(obj: Json, fn: (v: unknown) => unknown): Json {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, fn(v)]));
}

/** Follows a local `#/components/...` reference (responses, requestBodies). */
function deref(spec: Json, node: unknown): Json {
  let current = node as Json;
  for (let depth = 0; typeof current?.$ref === 'string' && depth < 10; depth++) {
    current = (current.$ref as string)
      .slice(2)
      .split('/')
      .reduce<unknown>((acc, part) => (acc as Json)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')], spec) as Json;
  }
  return current;
}

function operation(spec: Json, method: string, path: string): Json {
  const m = method.toLowerCase();
  if (!HTTP_METHODS.includes(m)) throw new Error(`unsupported HTTP method ${method}`);
  const item = (spec.paths as Json)[path] as Json | undefined;
  if (item === undefined) throw new Error(`path ${path} is not in the Berlin Group definition (use a template like /v1/consents/{consentId})`);
  const op = item[m] as Json | undefined;
  if (op === undefined) throw new Error(`${method.toUpperCase()} ${path} is not in the Berlin Group definition`);
  return op;
}

function validate(key: string, schema: unknown, body: unknown): BerlinGroupValidation {
  const { ajv } = state();
  let fn = validators.get(key);
  if (fn === undefined) {
    fn = ajv.compile(toJsonSchema(schema) as Json);
    validators.set(key, fn);
  }
  const valid = fn(body) as boolean;
  return { valid, errors: valid ? [] : formatErrors(fn.errors ?? []) };
}

function formatErrors(errors: ErrorObject[]): string[] {
  return errors.map(
    (e) =>
      `${e.instancePath === '' ? '(body)' : e.instancePath} ${e.message ?? 'is invalid'}${e.params && Object.keys(e.params).length > 0 ? ` ${JSON.stringify(e.params)}` : ''}`,
  );
}

function isEmptyBody(body: unknown): boolean {
  return body === undefined || body === null || body === '' || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);
}

/** Validates a response body for `status` of `method specPath` (JSON media type unless told otherwise). */
export function validateBerlinGroupResponse(
  method: string,
  specPath: string,
  status: number,
  body: unknown,
  contentType = 'application/json',
): BerlinGroupValidation {
  const { spec } = state();
  const op = operation(spec, method, specPath);
  const responses = op.responses as Json;
  const raw = responses[String(status)] ?? responses.default;
  if (raw === undefined)
    return {
      valid: false,
      errors: [`status ${status} is not documented for ${method.toUpperCase()} ${specPath} (documented: ${Object.keys(responses).join(', ')})`],
    };
  const content = deref(spec, raw).content as Json | undefined;
  if (content === undefined) {
    return isEmptyBody(body)
      ? { valid: true, errors: [] }
      : { valid: false, errors: [`status ${status} of ${method.toUpperCase()} ${specPath} has no body in the definition`] };
  }
  const media = content[contentType] as Json | undefined;
  if (media?.schema === undefined)
    return { valid: false, errors: [`media type ${contentType} is not defined for status ${status} of ${method.toUpperCase()} ${specPath}`] };
  return validate(`res|${method}|${specPath}|${status}|${contentType}`, media.schema, body);
}

/** Validates a request body of `method specPath` (JSON media type unless told otherwise). */
export function validateBerlinGroupRequest(method: string, specPath: string, body: unknown, contentType = 'application/json'): BerlinGroupValidation {
  const { spec } = state();
  const op = operation(spec, method, specPath);
  if (op.requestBody === undefined) {
    return isEmptyBody(body) ? { valid: true, errors: [] } : { valid: false, errors: [`${method.toUpperCase()} ${specPath} takes no request body`] };
  }
  const content = deref(spec, op.requestBody).content as Json;
  const media = content[contentType] as Json | undefined;
  if (media?.schema === undefined) return { valid: false, errors: [`media type ${contentType} is not accepted by ${method.toUpperCase()} ${specPath}`] };
  return validate(`req|${method}|${specPath}|${contentType}`, media.schema, body);
}

/** Like validateBerlinGroupResponse, but throws an Error listing the problems. */
export function assertBerlinGroupResponse(method: string, specPath: string, status: number, body: unknown, contentType?: string): void {
  const result = validateBerlinGroupResponse(method, specPath, status, body, contentType);
  if (!result.valid)
    throw new Error(
      `${method.toUpperCase()} ${specPath} ${status} response does not match the Berlin Group definition:\n  ${result.errors.join('\n  ')}\nbody: ${JSON.stringify(body).slice(0, 2000)}`,
    );
}

/** Like validateBerlinGroupRequest, but throws an Error listing the problems. */
export function assertBerlinGroupRequest(method: string, specPath: string, body: unknown, contentType?: string): void {
  const result = validateBerlinGroupRequest(method, specPath, body, contentType);
  if (!result.valid)
    throw new Error(
      `${method.toUpperCase()} ${specPath} request does not match the Berlin Group definition:\n  ${result.errors.join('\n  ')}\nbody: ${JSON.stringify(body).slice(0, 2000)}`,
    );
}

/**
 * The definition's path template for a concrete path: everything before `/v1/` (a bank's prefix such as
 * `/flowe/openbankingais`) and any query string are ignored; literal segments win over parameters.
 */
export function berlinGroupSpecPath(path: string): string | undefined {
  const { templates } = state();
  const start = path.indexOf('/v1/');
  if (start < 0) return undefined;
  const concrete = path.slice(start).split('?')[0]!.replace(/\/+$/, '');
  const segments = concrete.split('/');
  let best: { template: string; literals: number } | undefined;
  for (const template of templates) {
    const parts = template.split('/');
    if (parts.length !== segments.length) continue;
    let literals = 0;
    const ok = parts.every((part, i) => {
      if (/^\{.+\}$/.test(part)) return segments[i] !== '';
      if (part === segments[i]) literals++;
      return part === segments[i];
    });
    if (ok && (best === undefined || literals > best.literals)) best = { template, literals };
  }
  return best?.template;
}
