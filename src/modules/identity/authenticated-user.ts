import type { Request } from 'express';

/** The TPP user on whose behalf an `/api/v1` call is made: the `sub` of their verified token. */
export interface AuthenticatedUser {
  readonly id: string;
}

/** A request that went through `UserAuthGuard`. */
export type AuthenticatedRequest = Request & { user?: AuthenticatedUser };
