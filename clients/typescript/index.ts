/**
 * A typed client of the tpp-bff API: openapi-fetch over the types openapi-typescript generates from
 * specs/tpp-bff.openapi.json (schema.d.ts; `npm run openapi` regenerates both). Every call returns
 * `{ data, error, response }`: `data` is the success body, `error` the problem+json body, typed
 * with the codes that route can answer.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths, webhooks } from './schema.js';

export type { components, operations, paths, webhooks };
export type Schemas = components['schemas'];
export type Problem = Schemas['ProblemDetails'];
export type ErrorCode = Schemas['ErrorCode'];
export type TppBffClient = Client<paths>;

export interface TppBffClientOptions {
  /** The BFF's origin, e.g. `https://tpp.example` (same origin in a browser: `location.origin`). */
  baseUrl: string;
  /** The user token, sent as `Authorization: Bearer …`; a function is asked on every request. */
  token?: string | (() => string | undefined);
  fetch?: typeof globalThis.fetch;
}

export function createTppBffClient(options: TppBffClientOptions): TppBffClient {
  const client = createClient<paths>({ baseUrl: options.baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
  client.use({
    onRequest({ request }) {
      const token = typeof options.token === 'function' ? options.token() : options.token;
      if (token) request.headers.set('Authorization', `Bearer ${token}`);
      return request;
    },
  });
  return client;
}

/** Whether a value is a problem+json body of this API (any `error` a call returns is one). */
export function isProblem(value: unknown): value is Problem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { status?: unknown }).status === 'number'
  );
}
