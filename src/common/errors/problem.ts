import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { ERROR_CATALOGUE, type ErrorCode } from './error-codes.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** As the header is sent (Express's `res.type()` added the charset; kept so clients see no change). */
const PROBLEM_CONTENT_TYPE_HEADER = `${PROBLEM_CONTENT_TYPE}; charset=utf-8`;

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

export function problem(
  code: ErrorCode,
  init: { detail?: string; status?: number; instance?: string; requestId?: string; extensions?: Record<string, unknown> } = {},
): Problem {
  const entry = ERROR_CATALOGUE[code];
  return {
    ...init.extensions,
    type: `https://tpp-bff.dev/problems/${code.replace(/_/g, '-')}`,
    title: entry.title,
    status: init.status ?? entry.status,
    code,
    ...(init.detail ? { detail: init.detail } : {}),
    ...(init.instance ? { instance: init.instance } : {}),
    ...(init.requestId ? { requestId: init.requestId } : {}),
  };
}

/**
 * Answers with a problem. Through Fastify's reply wherever there is one (the exception filter,
 * controllers), so its hooks (cookies) still run; middleware that refuses a request before Fastify
 * reads it only has Node's response, and ends that.
 */
export function sendProblem(res: ServerResponse | FastifyReply, body: Problem, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  if (isReply(res)) {
    void res
      .code(body.status)
      .headers({ ...headers, 'content-type': PROBLEM_CONTENT_TYPE_HEADER })
      .send(payload);
    return;
  }
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.statusCode = body.status;
  res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE_HEADER);
  res.setHeader('Content-Length', Buffer.byteLength(payload));
  res.end(payload);
}

const isReply = (res: ServerResponse | FastifyReply): res is FastifyReply => 'raw' in res && typeof (res as FastifyReply).code === 'function';
