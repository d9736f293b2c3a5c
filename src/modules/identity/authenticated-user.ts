import type { FastifyRequest } from 'fastify';

/** The TPP user on whose behalf an `/api/v1` call is made: the `sub` of their verified token. */
export interface AuthenticatedUser {
  readonly id: string;
  /**
   * How the user would recognise their own account (the token's `email`, `preferred_username` or
   * `name`, else `sub`), for pages that must name them, such as the bank login's confirmation. Plain
   * text: control and formatting characters removed, at most 100 characters. Never an identifier.
   */
  readonly label: string;
}

/** A request that went through `UserAuthGuard`. */
export type AuthenticatedRequest = FastifyRequest & { user?: AuthenticatedUser };
