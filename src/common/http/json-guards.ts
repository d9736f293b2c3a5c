import { AppError } from '../errors/app-error.js';

/** Deeper than any body this API accepts; deeper input only serves to exhaust a recursive walker. */
export const MAX_JSON_DEPTH = 16;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * JSON.parse reviver: a body that tries to reach an object's prototype is refused while parsing
 * (the JSON parser turns the throw into a 400 "not valid JSON").
 */
export function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (FORBIDDEN_KEYS.has(key)) throw new SyntaxError('forbidden key');
  return value;
}

/** Refuses bodies nested deeper than MAX_JSON_DEPTH, walking iteratively (no recursion to exhaust). */
export function assertJsonDepth(body: unknown): void {
  const stack: [unknown, number][] = [[body, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) throw new AppError('validation_failed', `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`);
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
}
