import { Inject, Injectable } from '@nestjs/common';
import { PROFILES, SANDBOX_CONFIG, type Profile, type SandboxConfig } from '../config.js';
import type { BankModes } from './bank-modes.js';

/** The modes in force per bank: the configured ones until `POST /admin/modes` changes them; reset restores them. */
@Injectable()
export class BankModesService {
  private readonly current = new Map<Profile, BankModes>();

  constructor(@Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig) {
    this.reset();
  }

  of(profile: Profile): BankModes {
    return this.current.get(profile)!;
  }

  set(profile: Profile, changes: Partial<BankModes>): BankModes {
    const next = { ...this.of(profile), ...changes };
    this.current.set(profile, next);
    return next;
  }

  all(): Record<Profile, BankModes> {
    return Object.fromEntries(PROFILES.map((p) => [p, this.of(p)])) as Record<Profile, BankModes>;
  }

  reset(): void {
    for (const profile of PROFILES) this.current.set(profile, this.config.modes[profile]);
  }
}
