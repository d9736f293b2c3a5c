import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest, AuthenticatedUser } from './authenticated-user.js';

export type { AuthenticatedUser } from './authenticated-user.js';

/**
 * The user `UserAuthGuard` admitted: `me(@CurrentUser() user: AuthenticatedUser)`. On a route
 * without `@Authenticated()` this is a programming error, so it fails loudly rather than
 * answering for nobody.
 */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser => {
  const user = context.switchToHttp().getRequest<AuthenticatedRequest>().user;
  if (!user) throw new Error('@CurrentUser() used on a route without @Authenticated()');
  return user;
});
