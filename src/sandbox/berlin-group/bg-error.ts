/**
 * Berlin Group message codes used by the simulator. The OpenAPI file (v1.3.12) leaves MessageCode* as free
 * strings; the codes and their HTTP statuses come from the NextGenPSD2 Implementation Guidelines
 * ("Additional Error Information"): e.g. CONSENT_UNKNOWN is 403 when the id is in the path and 400 when it
 * arrives in a header or body; RESOURCE_UNKNOWN is 404 for an account id in the path, 403 for another
 * resource in the path and 400 for one in the body.
 */
export type BgMessageCode =
  | 'FORMAT_ERROR'
  | 'PARAMETER_NOT_SUPPORTED'
  | 'PARAMETER_NOT_CONSISTENT'
  | 'TIMESTAMP_INVALID'
  | 'PERIOD_INVALID'
  | 'SESSIONS_NOT_SUPPORTED'
  | 'CERTIFICATE_INVALID'
  | 'TOKEN_UNKNOWN'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'CONSENT_INVALID'
  | 'CONSENT_EXPIRED'
  | 'CONSENT_UNKNOWN'
  | 'RESOURCE_UNKNOWN'
  | 'PRODUCT_UNKNOWN'
  | 'SERVICE_INVALID'
  | 'CANCELLATION_INVALID'
  | 'ACCESS_EXCEEDED';

/** An error answered as `{tppMessages:[{category:"ERROR", code, text, path?}]}` (or no body where the spec has none). */
export class BgError extends Error {
  constructor(
    readonly status: number,
    readonly code: BgMessageCode,
    readonly text: string,
    /** JSON path of the offending field, when there is one. */
    readonly path?: string,
  ) {
    super(`${status} ${code}: ${text}`);
  }
}

export const formatError = (text: string, path?: string): BgError => new BgError(400, 'FORMAT_ERROR', text, path);

export interface TppMessage {
  readonly category: 'ERROR';
  readonly code: BgMessageCode;
  readonly text: string;
  readonly path?: string;
}

/**
 * The spec defines no body for 415, 5xx, nor for 429 on PIS routes; everything else carries tppMessages.
 */
export function bgErrorBody(error: BgError, service: 'ais' | 'pis'): { tppMessages: TppMessage[] } | undefined {
  if (error.status === 415 || error.status >= 500 || (error.status === 429 && service === 'pis')) return undefined;
  const message: TppMessage = { category: 'ERROR', code: error.code, text: error.text.slice(0, 500) };
  return { tppMessages: [error.path === undefined ? message : { ...message, path: error.path }] };
}
