/** Machine-readable reasons the frontend receives as `?result=error&error=…`. */
export type LoginError =
  'access_denied' | 'cancelled' | 'invalid_state' | 'expired_state' | 'missing_code' | 'exchange_failed' | 'scope_mismatch' | 'bank_error' | 'expired_ticket';

/** Appends the outcome to the frontend's return URL. */
export function outcomeUrl(returnUrl: string, params: Record<string, string>): string {
  const url = new URL(returnUrl);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}
