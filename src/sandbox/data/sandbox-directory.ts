import { Injectable } from '@nestjs/common';
import { SandboxClock } from '../clock/sandbox-clock.js';
import type { Profile } from '../config.js';
import {
  buildSandboxData,
  SANDBOX_OTP,
  SANDBOX_PASSWORD,
  type SandboxAccount,
  type SandboxCustomer,
  type SandboxData,
  type SandboxPerson,
} from './personas.js';

/** Read-only look-ups over the demo persons, customers and accounts (generated once at start). */
@Injectable()
export class SandboxDirectory {
  readonly data: SandboxData;

  constructor(clock: SandboxClock) {
    this.data = buildSandboxData(clock.today());
  }

  /** Username + password + OTP (the SCA of both banks' login pages). */
  authenticate(username: string, password: string, otp: string): SandboxPerson | undefined {
    const person = this.person(username);
    return person !== undefined && password === SANDBOX_PASSWORD && otp === SANDBOX_OTP ? person : undefined;
  }

  person(username: string): SandboxPerson | undefined {
    return this.data.persons.find((p) => p.username === username);
  }

  customersOf(profile: Profile, username: string): SandboxCustomer[] {
    return this.data.customers.filter((c) => c.profile === profile && c.username === username);
  }

  customer(id: string): SandboxCustomer | undefined {
    return this.data.customers.find((c) => c.id === id);
  }

  accountsOf(customerId: string): SandboxAccount[] {
    return this.data.accounts.filter((a) => a.customerId === customerId);
  }

  accountByIban(profile: Profile, iban: string): SandboxAccount | undefined {
    return this.data.accounts.find((a) => a.profile === profile && a.iban === iban);
  }
}
