import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AppError } from '../../common/errors/app-error.js';
import type { AuthenticatedRequest } from './authenticated-user.js';
import { UserTokenVerifier } from './user-token.verifier.js';

/** Generous for a JWT with a few custom claims; anything longer is refused before parsing. */
const MAX_TOKEN_LENGTH = 8192;

/** `Bearer` (any case), then exactly one token in RFC 6750 `b64token` syntax. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Admits a request only with a valid user token in `Authorization: Bearer …` and sets
 * `request.user`. Every failure is a 401 problem (never a redirect: this is an API) with a
 * `WWW-Authenticate: Bearer` challenge (RFC 6750 section 3).
 */
@Injectable()
export class UserAuthGuard implements CanActivate {
  constructor(private readonly verifier: UserTokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const response = http.getResponse<FastifyReply>();
    const header = request.headers.authorization;

    // RFC 6750 section 3.1: a request with no Bearer credentials gets a challenge without an error code.
    if (!header || !/^Bearer(\s|$)/i.test(header)) {
      void response.header('WWW-Authenticate', 'Bearer realm="tpp-bff"');
      throw new AppError('unauthenticated', header ? 'Authorization scheme must be Bearer' : 'Authorization header with a Bearer token is required');
    }
    try {
      request.user = await this.verifier.verify(bearerToken(header));
      return true;
    } catch (error) {
      // The problem filter forwards only Retry-After; a header set on the response survives until
      // the filter sends the body. A 503 (keys unavailable) is not a challenge.
      if (error instanceof AppError && error.code === 'unauthenticated') {
        void response.header('WWW-Authenticate', 'Bearer realm="tpp-bff", error="invalid_token"');
      }
      throw error;
    }
  }
}

function bearerToken(header: string): string {
  const token = header.length <= MAX_TOKEN_LENGTH + 16 ? BEARER.exec(header)?.[1] : undefined;
  if (!token || token.length > MAX_TOKEN_LENGTH) throw new AppError('unauthenticated', 'Authorization header must carry exactly one Bearer token');
  return token;
}
