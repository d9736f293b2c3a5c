import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { UserAuthGuard } from './user-auth.guard.js';

/**
 * Marks a controller or route as called on behalf of a TPP user: `Authorization: Bearer <user
 * token>` is required (401 problem+json otherwise) and `@CurrentUser()` gives the user. Every
 * `/api/v1` controller carries it (docs/design.md, "The frontend contract").
 */
export function Authenticated(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    UseGuards(UserAuthGuard),
    ApiBearerAuth('user'),
    ApiUnauthorizedResponse({ description: 'Missing, malformed, expired or otherwise invalid user token (application/problem+json, WWW-Authenticate: Bearer)' }),
  );
}
