import type { OpenAPIObject, OperationObject, ParameterObject, ReferenceObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { ERROR_CATALOGUE, type ErrorCode } from '../common/errors/error-codes.js';
import { PROBLEM_CONTENT_TYPE } from '../common/errors/problem.js';
import { problemSchema } from '../common/errors/problem.view.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

const header = (description: string, schema: SchemaObject, required = false) => ({ description, required, schema });

const REQUEST_ID = header(
  'The request id (the one sent, when it was a safe token, otherwise a new one): quote it when reporting a problem',
  { type: 'string', minLength: 1, maxLength: 128 },
  true,
);
const RETRY_AFTER = header('Seconds to wait before trying again', { type: 'string', pattern: '^[0-9]+$' });
const IDEMPOTENT_REPLAYED = header('`true` when this is the stored answer to an earlier request with the same Idempotency-Key', {
  type: 'string',
  enum: ['true'],
});
const WWW_AUTHENTICATE = header('`Bearer`, with the error when a token was sent', { type: 'string' });

/**
 * The answers the pipeline gives any route, whatever its handler does: documented here once
 * rather than on every controller, from what each operation declares (a user token, parameters,
 * a body). A code a handler answers itself is listed on the route (ApiProblems).
 */
function pipelineProblems(path: string, op: OperationObject): ErrorCode[] {
  const codes: ErrorCode[] = ['internal_error'];
  if (path !== '/health/live' && path !== '/health/ready') codes.push('database_unavailable');
  const parameters = (op.parameters ?? []) as (ParameterObject | ReferenceObject)[];
  const validated = parameters.some((p) => 'in' in p && (p.in === 'path' || p.in === 'query' || (p.in === 'header' && p.required)));
  if (validated || op.requestBody) codes.push('validation_failed');
  if (op.requestBody) codes.push('malformed_json', 'payload_too_large', 'unsupported_media_type');
  if (op.security?.some((s) => 'user' in s)) codes.push('unauthenticated', 'rate_limited', 'service_unavailable');
  return codes;
}

const isProblemResponse = (status: string) => /^[45]\d\d$/.test(status);

function listedCodes(response: ResponseObject): ErrorCode[] {
  const schema = response.content?.[PROBLEM_CONTENT_TYPE]?.schema as SchemaObject | undefined;
  const code = schema?.properties?.code as SchemaObject | undefined;
  return (code?.enum ?? []) as ErrorCode[];
}

function completeOperation(path: string, op: OperationObject): void {
  const responses = op.responses as Record<string, ResponseObject>;
  const byStatus = new Map<string, Set<ErrorCode>>();
  for (const [status, response] of Object.entries(responses)) if (isProblemResponse(status)) byStatus.set(status, new Set(listedCodes(response)));
  for (const code of pipelineProblems(path, op)) {
    const status = String(ERROR_CATALOGUE[code].status);
    byStatus.set(status, (byStatus.get(status) ?? new Set()).add(code));
  }
  for (const [status, codes] of byStatus) {
    const listed = [...codes].sort();
    responses[status] = {
      description: listed.map((code) => `\`${code}\`: ${ERROR_CATALOGUE[code].title}`).join('; '),
      content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema(Number(status), listed) } },
    };
  }

  const idempotent = ((op.parameters ?? []) as ParameterObject[]).some((p) => p.in === 'header' && p.name === 'Idempotency-Key');
  for (const [status, response] of Object.entries(responses)) {
    const headers: NonNullable<ResponseObject['headers']> = { ...(response.headers ?? {}), 'X-Request-ID': REQUEST_ID };
    if (status === '401') headers['WWW-Authenticate'] = WWW_AUTHENTICATE;
    if (['409', '429', '503'].includes(status)) headers['Retry-After'] = RETRY_AFTER;
    if (idempotent) headers['Idempotent-Replayed'] = IDEMPOTENT_REPLAYED;
    response.headers = headers;
  }
  op.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Every schema says which fields exist: an unknown one is refused in a request (the validation
 * pipe forbids it) and never sent in an answer, so a client knows that what it reads is all there
 * is. Problems are the exception: RFC 9457 lets them carry extension members.
 */
function closeSchemas(document: OpenAPIObject): void {
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    if (name === 'ProblemDetails' || '$ref' in schema || !schema.properties) continue;
    schema.additionalProperties = false;
  }
}

/** The document as the server behaves: pipeline answers, response headers, closed schemas. */
export function completeDocument(document: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) completeOperation(path, op);
    }
  }
  closeSchemas(document);
  return document;
}
