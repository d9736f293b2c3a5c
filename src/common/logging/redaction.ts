/**
 * What never reaches a log line. Field and header names censored in every log entry, plus the query
 * parameters whose values are stripped from logged URLs (a callback URL carries the bank's code).
 */
export const SECRET_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'client_secret',
  'clientSecret',
  'refresh_token',
  'refreshToken',
  'access_token',
  'accessToken',
  'id_token',
  'token',
  'ticket',
  'state',
  'nonce',
  'password',
  'otp',
  'po-apikey',
  'p0-apikey',
  'ocp-apim-subscription-key',
  'subscription-key',
  'x-api-key',
] as const;

/**
 * Where a field named `code` is the OAuth authorization code: a token request's form or body, a
 * callback's query or route parameters. Everywhere else `code` is an error code (`ECONNREFUSED`, a
 * SQLSTATE such as `57014`, our own `bank_timeout`) that a person reading the log needs, so it is
 * not censored by name alone.
 */
const CODE_CONTAINERS = ['form', 'body', 'query', 'params', 'callback'] as const;

const CENSOR = '[REDACTED]';

/**
 * How deep a log entry is searched: the entry's own fields are level 1, so a header of a logged
 * request (`call.req.headers.authorization`) or the code of a nested token request
 * (`exchange.call.form.code`) is level 4; a secret placed deeper than any of the product's log
 * calls does is not looked for.
 */
const MAX_DEPTH = 5;

type Entry = Record<string, unknown>;

/**
 * Returns the function every log entry goes through before it is written (pino's `formatters.log`):
 * fields named like a secret (SECRET_KEYS, any case, plus a bank's own key headers) are replaced
 * by `[REDACTED]` wherever they are, `code` only inside CODE_CONTAINERS. Plain objects, arrays and
 * errors are searched (an error's `cause` too); the entry and its values are never changed: only
 * the path down to a censored field is copied, so an entry without secrets costs one walk and no
 * copy. Other objects (a request, a response, a buffer) are left to their serializers.
 *
 * Censoring each entry as it is written, rather than every value bound to a child logger, keeps a
 * request's cost free of redaction when nothing is logged.
 */
export function secretCensor(extraHeaders: string[] = []): (entry: Entry) => Entry {
  const secret = new Set([...SECRET_KEYS, ...extraHeaders].map((k) => k.toLowerCase()));
  const containers = new Set<string>(CODE_CONTAINERS);
  const isSecret = (key: string, parent: string) => secret.has(key.toLowerCase()) || (key === 'code' && containers.has(parent));

  const walk = (value: unknown, parent: string, depth: number): unknown => {
    if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      value.forEach((item: unknown, i) => {
        const next = walk(item, parent, depth + 1);
        if (next !== item) (copy ??= [...value])[i] = next;
      });
      return copy ?? value;
    }
    const isError = value instanceof Error;
    if (!isError && !isPlainObject(value)) return value;
    const source = value as Entry;
    let copy: Entry | undefined;
    for (const key of fieldsOf(source, isError)) {
      const field = source[key];
      const next = isSecret(key, parent) ? (field === undefined ? field : CENSOR) : walk(field, key, depth + 1);
      if (next !== field)
        Object.defineProperty((copy ??= shallowCopy(source, isError)), key, { value: next, enumerable: true, writable: true, configurable: true });
    }
    return copy ?? value;
  };
  return (entry) => walk(entry, '', 1) as Entry;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** An error's `cause` and an AggregateError's `errors` are not enumerable, but are logged. */
function fieldsOf(value: Entry, isError: boolean): string[] {
  const keys = Object.keys(value);
  if (!isError) return keys;
  for (const hidden of ['cause', 'errors']) if (Object.hasOwn(value, hidden) && !keys.includes(hidden)) keys.push(hidden);
  return keys;
}

/** A copy to censor: an error stays an error (class, message and stack), for pino's error serializer. */
function shallowCopy(value: Entry, isError: boolean): Entry {
  if (!isError) return { ...value };
  const copy = Object.create(Object.getPrototypeOf(value) as object, Object.getOwnPropertyDescriptors(value)) as Entry;
  // Newer V8 (Node 24) keeps `stack` behind an accessor that reads the original error's internal
  // slot, which the copy lacks: carry the text itself.
  Object.defineProperty(copy, 'stack', { value: (value as unknown as Error).stack, writable: true, configurable: true, enumerable: false });
  return copy;
}

const SECRET_QUERY = new Set(['code', 'state', 'ticket', 'token', 'access_token', 'refresh_token', 'client_secret', 'nonce', 'id_token']);

/** `/auth/flowe/callback?code=abc&state=def` → `/auth/flowe/callback?code=[REDACTED]&state=[REDACTED]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) {
    if (SECRET_QUERY.has(key.toLowerCase())) params.set(key, '[REDACTED]');
  }
  return `${url.slice(0, q)}?${params.toString()}`;
}
