/**
 * What never reaches a log line. Header and body paths for pino's redaction, plus the query
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

export function redactPaths(extraHeaders: string[] = []): string[] {
  const headers = [...new Set([...SECRET_KEYS, ...extraHeaders.map((h) => h.toLowerCase())])];
  const paths: string[] = [];
  for (const key of headers) {
    const k = JSON.stringify(key);
    paths.push(`req.headers[${k}]`, `res.headers[${k}]`, `headers[${k}]`, `*[${k}]`, `*.*[${k}]`, `*.*.*[${k}]`);
  }
  for (const container of CODE_CONTAINERS) paths.push(`${container}.code`, `*.${container}.code`, `*.*.${container}.code`);
  return paths;
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
