import { randomUUID } from 'node:crypto';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { SandboxClock } from '../../clock/sandbox-clock.js';
import type { Profile } from '../../config.js';
import type { Grant } from '../../oauth/oauth-store.js';
import { BgError, formatError } from '../bg-error.js';
import { floweStyleId } from '../ids.js';
import type { ConsentRequest, ConsentStatus, ScaStatus } from '../wire.js';

type StoredStatus = Exclude<ConsentStatus, 'expired'>;

export interface Consent {
  readonly id: string;
  readonly authorisationId: string;
  readonly profile: Profile;
  readonly clientId: string;
  readonly username: string;
  readonly customerId: string;
  readonly request: ConsentRequest;
  readonly createdAtMs: number;
  status: StoredStatus;
  scaStatus: ScaStatus;
  lastActionDate: string;
}

/** AIS consents of both banks. Statuses follow Berlin Group; `expired` is derived from the sandbox clock. */
@Injectable()
export class ConsentService {
  private readonly consents = new Map<string, Consent>();

  constructor(private readonly clock: SandboxClock) {}

  create(grant: Grant, request: ConsentRequest): Consent {
    const id = grant.profile === 'flowe' ? floweStyleId('AAAC', 18) : randomUUID();
    const consent: Consent = {
      id,
      authorisationId: grant.profile === 'flowe' ? `${id}-AUTH-1` : randomUUID(),
      profile: grant.profile,
      clientId: grant.clientId,
      username: grant.username,
      customerId: grant.customerId,
      request,
      createdAtMs: this.clock.nowMs(),
      status: 'received',
      scaStatus: 'received',
      lastActionDate: this.clock.today(),
    };
    this.consents.set(id, consent);
    return consent;
  }

  /** Current status: a received or valid consent whose validUntil has passed is `expired`. */
  statusOf(consent: Consent): ConsentStatus {
    if ((consent.status === 'valid' || consent.status === 'received') && this.clock.today() > consent.request.validUntil) return 'expired';
    return consent.status;
  }

  /** A consent addressed in the path: unknown or another PSU's → 403 CONSENT_UNKNOWN. */
  forPath(grant: Grant, id: string): Consent {
    const consent = this.consents.get(id);
    if (consent === undefined || !ownedBy(grant, consent)) throw new BgError(403, 'CONSENT_UNKNOWN', 'The consent id is not known for this PSU and TPP');
    return consent;
  }

  /**
   * The Consent-ID header of an account read: missing → 400 FORMAT_ERROR, unknown → 400 CONSENT_UNKNOWN
   * (header, not path), expired → 401 CONSENT_EXPIRED, any other status but valid → 401 CONSENT_INVALID.
   */
  forAccountAccess(grant: Grant, id: string | undefined): Consent {
    if (id === undefined || id === '') throw formatError('Consent-ID header is required', 'Consent-ID');
    const consent = this.consents.get(id);
    if (consent === undefined || !ownedBy(grant, consent)) throw new BgError(400, 'CONSENT_UNKNOWN', 'The Consent-ID is not known for this PSU and TPP');
    const status = this.statusOf(consent);
    if (status === 'expired') throw new BgError(401, 'CONSENT_EXPIRED', `The consent expired after ${consent.request.validUntil}`);
    if (status !== 'valid') throw new BgError(401, 'CONSENT_INVALID', `The consent is ${status}, not valid`);
    consent.lastActionDate = this.clock.today();
    return consent;
  }

  /** DELETE /consents/{id}: a live consent becomes terminatedByTpp; a final one stays as it is. */
  terminate(consent: Consent): void {
    const status = this.statusOf(consent);
    if (status === 'received' || status === 'valid') {
      if (consent.scaStatus === 'received') consent.scaStatus = 'failed';
      consent.status = 'terminatedByTpp';
      consent.lastActionDate = this.clock.today();
    }
  }

  /** The PSU approves or rejects in the bank app (decoupled SCA). */
  decide(id: string, approve: boolean): Consent {
    const consent = this.consents.get(id);
    if (consent === undefined) throw new NotFoundException(`unknown consent ${id}`);
    const status = this.statusOf(consent);
    if (status !== 'received') throw new ConflictException(`consent ${id} is ${status}: nothing to decide`);
    consent.status = approve ? 'valid' : 'rejected';
    consent.scaStatus = approve ? 'finalised' : 'failed';
    consent.lastActionDate = this.clock.today();
    return consent;
  }

  /** `POST /admin/consents/{id}/revoke`: the PSU withdraws the consent in the bank app. */
  revokeByPsu(id: string): Consent {
    const consent = this.consents.get(id);
    if (consent === undefined) throw new NotFoundException(`unknown consent ${id}`);
    consent.status = 'revokedByPsu';
    consent.lastActionDate = this.clock.today();
    return consent;
  }

  /** Consents waiting for the PSU, optionally for one username. */
  pending(username?: string): Consent[] {
    return [...this.consents.values()].filter((c) => (username === undefined || c.username === username) && this.statusOf(c) === 'received');
  }

  reset(): void {
    this.consents.clear();
  }
}

function ownedBy(grant: Grant, consent: Consent): boolean {
  return (
    consent.profile === grant.profile && consent.clientId === grant.clientId && consent.username === grant.username && consent.customerId === grant.customerId
  );
}
