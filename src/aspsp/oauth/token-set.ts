/** What a bank's token endpoint gave us, normalised. Never logged, never returned to a client. */
export interface TokenSet {
  accessToken: string;
  /** Absent when the bank did not rotate it: keep the previous one. */
  refreshToken?: string;
  /** Absolute expiry of the access token. */
  expiresAt: Date;
  scope?: string;
}

/** When a bank omits `expires_in` we assume a short life and rely on 401 → refresh. */
export const DEFAULT_ACCESS_TOKEN_SECONDS = 300;
