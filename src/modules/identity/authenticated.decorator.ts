import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { UserRateLimitGuard } from '../fairness/user-rate-limit.guard.js';
import { UserAuthGuard } from './user-auth.guard.js';

/**
 * Marks a controller or route as called on behalf of a TPP user: `Authorization: Bearer <user
 * token>` is required (401 problem+json otherwise) and `@CurrentUser()` gives the user. Every
 * `/api/v1` controller carries it (docs/design.md, "The frontend contract"). The user's API rate
 * limit is checked next (429 problem+json), before the handler runs.
 */
export function Authenticated(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    UseGuards(UserAuthGuard, UserRateLimitGuard),
    ApiBearerAuth('user'),
    ApiUnauthorizedResponse({
      description: 'Missing, malformed, expired or otherwise invalid user token (application/problem+json, WWW-Authenticate: Bearer)',
    }),
  );
}
