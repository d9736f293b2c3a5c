import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Profile } from '../config.js';

/** An authorization request waiting for the PSU on the bank's login page. */
export interface LoginRequest {
  readonly id: string;
  readonly profile: Profile;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
  readonly scopes: readonly string[];
  readonly expiresAtMs: number;
  done: boolean;
}

/**
 * One PSU authorization: the login that started a token chain. Every code, access and refresh token
 * points to its grant; Flowe's 90-day re-login rule counts from `authenticatedAtMs`.
 */
export interface Grant {
  readonly id: string;
  readonly profile: Profile;
  readonly clientId: string;
  readonly username: string;
  /** ConnectPay: the Customer the PSU chose; Flowe: the person's only customer. */
  readonly customerId: string;
  readonly scopes: readonly string[];
  readonly authenticatedAtMs: number;
  revoked: boolean;
}

export interface AuthCode {
  readonly code: string;
  readonly grantId: string;
  readonly redirectUri: string;
  readonly expiresAtMs: number;
  usedAtMs?: number;
}

export interface AccessToken {
  readonly token: string;
  readonly grantId: string;
  readonly profile: Profile;
  /** The grant's scopes, or the narrower set asked for at the token endpoint. */
  readonly scopes: readonly string[];
  expiresAtMs: number;
}

export interface RefreshToken {
  readonly token: string;
  readonly grantId: string;
  /** Set when the token is first exchanged: in `rotate` mode a second use is a replay. */
  rotatedAtMs?: number;
}

/** In-memory OAuth state of both banks. */
@Injectable()
export class OAuthStore {
  readonly loginRequests = new Map<string, LoginRequest>();
  readonly grants = new Map<string, Grant>();
  readonly codes = new Map<string, AuthCode>();
  readonly accessTokens = new Map<string, AccessToken>();
  readonly refreshTokens = new Map<string, RefreshToken>();
  /** ConnectPay nonces already seen, with the time they may be forgotten. */
  readonly usedNonces = new Map<string, number>();

  reset(): void {
    this.loginRequests.clear();
    this.grants.clear();
    this.codes.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.usedNonces.clear();
  }
}

/** Unguessable opaque value (tokens, codes, request ids). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
