import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import { PROFILES, type Profile } from '../config.js';

/**
 * Faults that are configuration problems on one side or the other, never the PSU's grant ending:
 * a client must keep its tokens through every one of them, and service comes back when the knob is
 * restored (`POST /admin/config-faults`, `DELETE /admin/config-faults`).
 */
export interface ConfigFaults {
  /** Flowe's gateway has a new subscription key: the one the TPP sends is now "invalid" (APIM 401, no tppMessages). */
  readonly subscriptionKeyRotated: boolean;
  /** The client secret has passed its expiration date (Flowe guide, section 2): token endpoint 401 invalid_client. */
  readonly clientSecretExpired: boolean;
  /** The login server (token endpoint) throttles: 429, with Retry-After when `loginServerRetryAfterSeconds` is set. */
  readonly loginServer429: boolean;
  readonly loginServerRetryAfterSeconds?: number;
  /**
   * The bank refuses the TPP's client certificate on token and API calls:
   * `refuse-certificate` — the TLS session is set up, then 401 (`invalid_client` / `CERTIFICATE_INVALID`);
   * `refuse-handshake` — the bank's own TLS listener fails the handshake; on the shared listeners the
   * connection is closed without an answer.
   */
  readonly tls: TlsFault;
}

export type TlsFault = 'ok' | 'refuse-certificate' | 'refuse-handshake';
export const TLS_FAULTS: readonly TlsFault[] = ['ok', 'refuse-certificate', 'refuse-handshake'];

const NONE: ConfigFaults = { subscriptionKeyRotated: false, clientSecretExpired: false, loginServer429: false, tls: 'ok' };

@Injectable()
export class ConfigFaultsService {
  private readonly current = new Map<Profile, ConfigFaults>();
  /** `tls` changes, so the per-bank TLS listeners can switch their handshake policy. */
  readonly tlsChanges = new EventEmitter<{ change: [Profile, TlsFault] }>();

  of(profile: Profile): ConfigFaults {
    return this.current.get(profile) ?? NONE;
  }

  set(profile: Profile, changes: Partial<ConfigFaults>): ConfigFaults {
    return this.replace(profile, { ...this.of(profile), ...changes });
  }

  all(): Record<Profile, ConfigFaults> {
    return Object.fromEntries(PROFILES.map((p) => [p, this.of(p)])) as Record<Profile, ConfigFaults>;
  }

  reset(profile?: Profile): void {
    for (const p of profile === undefined ? PROFILES : [profile]) this.replace(p, NONE);
  }

  private replace(profile: Profile, next: ConfigFaults): ConfigFaults {
    const before = this.of(profile);
    this.current.set(profile, next);
    if (next.tls !== before.tls) this.tlsChanges.emit('change', profile, next.tls);
    return next;
  }
}
