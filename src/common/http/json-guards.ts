import type { NextFunction, Request, Response } from 'express';
import { problem, sendProblem } from '../errors/problem.js';
import { requestIdOf } from './request-id.js';

/** Deeper than any body this API accepts; deeper input only serves to exhaust a recursive walker. */
export const MAX_JSON_DEPTH = 16;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * JSON.parse reviver: a body that tries to reach an object's prototype is refused while parsing
 * (body-parser turns the throw into a 400 "not valid JSON").
 */
export function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (FORBIDDEN_KEYS.has(key)) throw new SyntaxError('forbidden key');
  return value;
}

/** Refuses bodies nested deeper than MAX_JSON_DEPTH, walking iteratively (no recursion to exhaust). */
export function limitJsonDepth(req: Request, res: Response, next: NextFunction): void {
  const stack: [unknown, number][] = [[req.body, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) {
      return sendProblem(
        res,
        problem('validation_failed', { detail: `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`, requestId: requestIdOf(req) }),
      );
    }
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  next();
}
