/** A fault injected by `POST /admin/faults` (forced 429 or a 5xx). */
export class FaultError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(`injected fault ${status}`);
  }
}

/**
 * Flowe's API gateway (Azure API Management) refuses a missing or wrong subscription key before the
 * Berlin Group layer sees the request, with APIM's own body shape.
 */
export class SubscriptionKeyError extends Error {
  constructor(readonly apimMessage: string) {
    super(apimMessage);
  }
}
