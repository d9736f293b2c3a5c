import { Injectable } from '@nestjs/common';
import type { Profile } from '../config.js';

/** Odd but legal token responses (RFC 6749 allows each): the client must cope with every one. */
export interface TokenQuirks {
  readonly omitExpiresIn?: boolean;
  /** e.g. "bEARER": RFC 6749 token types are case-insensitive. */
  readonly tokenType?: string;
  readonly omitScope?: boolean;
  /** No refresh_token at all (RFC 6749 5.1 makes it optional): the PSU has to log in again when the access token expires. */
  readonly omitRefreshToken?: boolean;
}

/**
 * How `_links` hrefs are written. Berlin Group lets the ASPSP choose relative or full links:
 * - `host-relative` (default): `/flowe/openbankingpis/v1/payments/...` — resolve against the bank's origin;
 * - `api-relative`: `/v1/payments/...` as in the Flowe guide's samples — resolve against the API root;
 * - `absolute`: `http://host:port/flowe/openbankingpis/v1/payments/...`.
 */
export type LinkStyle = 'host-relative' | 'api-relative' | 'absolute';
export const LINK_STYLES: readonly LinkStyle[] = ['host-relative', 'api-relative', 'absolute'];

@Injectable()
export class QuirksService {
  private readonly tokenQuirks = new Map<Profile, TokenQuirks>();
  private readonly linkStyles = new Map<Profile, LinkStyle>();

  setTokenQuirks(profile: Profile, quirks: TokenQuirks): void {
    this.tokenQuirks.set(profile, quirks);
  }

  tokenQuirksFor(profile: Profile): TokenQuirks {
    return this.tokenQuirks.get(profile) ?? {};
  }

  setLinkStyle(profile: Profile, style: LinkStyle): void {
    this.linkStyles.set(profile, style);
  }

  linkStyleFor(profile: Profile): LinkStyle {
    return this.linkStyles.get(profile) ?? 'host-relative';
  }

  reset(): void {
    this.tokenQuirks.clear();
    this.linkStyles.clear();
  }
}
