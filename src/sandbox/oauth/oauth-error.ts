/** RFC 6749 section 5.2 error, answered as JSON `{error, error_description}`. */
export class OAuthError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope',
    readonly description: string,
    /** Set for 401 invalid_client when the client tried HTTP Basic (RFC 6749 5.2). */
    readonly wwwAuthenticate?: string,
  ) {
    super(`${error}: ${description}`);
  }
}

/**
 * An authorization-request error shown to the browser instead of a redirect: the sandbox never redirects to
 * an unverified client or redirect URI. Answered as HTML for browsers, JSON otherwise.
 */
export class AuthorizePageError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}
