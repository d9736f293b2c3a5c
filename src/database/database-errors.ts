/**
 * Whether an error means "the database is not available right now" (down, frozen, unreachable,
 * overloaded, restarting, or too slow) rather than a bug in a statement. Those are answered 503
 * with Retry-After, never 500: the request was fine and may simply be sent again.
 *
 * Judged from codes and node-postgres's own fixed messages only; TypeORM's QueryFailedError
 * keeps the driver's error in `driverError`, other layers in `cause`.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return databaseUnavailability(error) !== undefined;
}

/** Why the database is unavailable, as a short code for a log line (`57014`, `ECONNREFUSED`, `query_timeout`), or undefined. */
export function databaseUnavailability(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 5) return undefined;
  const { code, message, driverError, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || NETWORK_CODES.has(code))) return code;
  if (typeof message === 'string') {
    const known = DRIVER_MESSAGES.find(([pattern]) => pattern.test(message));
    if (known) return known[1];
  }
  for (const inner of [driverError, cause, ...(Array.isArray(errors) ? errors : [])]) {
    const reason = databaseUnavailability(inner, depth + 1);
    if (reason) return reason;
  }
  return undefined;
}

/**
 * SQLSTATEs: class 08 (connection exception), 53 (insufficient resources: too many connections,
 * disk full, out of memory), 57014 (statement timeout or cancel), 57P0x (shutting down, starting
 * up, database dropped, idle session timeout), 25P03 (our idle-in-transaction session was ended),
 * 55P03 (lock timeout).
 */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57014|57P0[1-5]|25P03|55P03)$/;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/** node-postgres and pg-pool failures that carry no code. */
const DRIVER_MESSAGES: [RegExp, string][] = [
  [/^Query read timeout$/, 'query_timeout'],
  [/^Connection terminated/, 'connection_terminated'],
  [/^timeout exceeded when trying to connect$/, 'pool_timeout'],
  [/not queryable$/, 'connection_closed'],
  [/^Cannot use a pool after calling end on the pool$/, 'pool_closed'],
];
