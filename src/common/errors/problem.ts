import type { Response } from 'express';
import { ERROR_CATALOGUE, type ErrorCode } from './error-codes.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

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

export function sendProblem(res: Response, body: Problem, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}
