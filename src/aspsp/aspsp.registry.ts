import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { banksConfig, type BudgetCounting, type Service } from '../config/banks.config.js';
import type { ConfigOf } from '../config/define-config.js';
import { AppError } from '../common/errors/app-error.js';
import { BankMetrics } from '../common/metrics/bank.metrics.js';
import type { AspspAdapter } from './aspsp-adapter.js';
import { ConnectPayAdapter } from './connectpay/connectpay.adapter.js';
import { FloweAdapter } from './flowe/flowe.adapter.js';
import type { CircuitStateName } from './http/bank-call-observer.js';
import { BankHttpClient } from './http/bank-http.client.js';

/** What the frontend's bank list shows of a bank: who it is, what it offers, its rules and its health now. */
export interface AspspSummary {
  id: string;
  name: string;
  services: Service[];
  country?: string;
  bic?: string;
  /** Served by the BFF (relative, like authorizationUrl); absent when no logo is configured. */
  logoUrl?: string;
  consentRules: { maxValidityDays: number; maxFrequencyPerDay: number; budgetCounting: BudgetCounting };
  /** Days after a login when the bank asks the PSU to log in again (Flowe: 90). */
  reloginAfterDays?: number;
  /** The circuit breakers of the bank's login server and API on this replica: open = calls are paused. */
  health: { status: 'available' | 'degraded' | 'unavailable'; login: CircuitStateName; api: CircuitStateName };
}

/** `GET /api/v1/aspsps` filters: ISO country (any case) and a substring of the id, name or BIC. */
export interface AspspFilter {
  country?: string;
  q?: string;
}

/** Builds one adapter per configured bank and hands them out by id. Adding a bank = config + adapter. */
@Injectable()
export class AspspRegistry implements OnApplicationShutdown {
  private readonly adapters = new Map<string, AspspAdapter>();

  constructor(@Inject(banksConfig.KEY) config: ConfigOf<typeof banksConfig>, metrics: BankMetrics) {
    for (const bank of config.banks) {
      const http = new BankHttpClient(bank, metrics);
      const adapter = bank.adapter === 'flowe' ? new FloweAdapter(bank, http) : new ConnectPayAdapter(bank, http);
      this.adapters.set(bank.id, adapter);
    }
  }

  /** The adapter for a configured bank; an unknown id is a 404 for the caller. */
  get(aspspId: string): AspspAdapter {
    const adapter = this.adapters.get(aspspId);
    if (!adapter) throw AppError.notFound(`ASPSP '${aspspId.slice(0, 40)}'`);
    return adapter;
  }

  all(): AspspAdapter[] {
    return [...this.adapters.values()];
  }

  list(filter: AspspFilter = {}): AspspSummary[] {
    const country = filter.country?.toUpperCase();
    const q = filter.q?.trim().toLowerCase();
    return this.all()
      .filter((a) => !country || a.bank.country === country)
      .filter((a) => !q || [a.id, a.bank.name, a.bank.bic ?? ''].some((field) => field.toLowerCase().includes(q)))
      .map((a) => summaryOf(a));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.all().map((a) => a.http.close()));
  }
}

function summaryOf(a: AspspAdapter): AspspSummary {
  const limits = a.aisLimits();
  const login = a.http.circuitState('token');
  const api = a.http.circuitState('api');
  const states = [login, api];
  return {
    id: a.id,
    name: a.bank.name,
    services: a.bank.services,
    ...(a.bank.country ? { country: a.bank.country } : {}),
    ...(a.bank.bic ? { bic: a.bank.bic } : {}),
    ...(a.bank.logo ? { logoUrl: `/aspsps/${a.id}/logo` } : {}),
    consentRules: { maxValidityDays: limits.maxValidDays, maxFrequencyPerDay: limits.maxFrequencyPerDay, budgetCounting: a.bank.aisBudgetCounting },
    ...(a.reloginAfterDays ? { reloginAfterDays: a.reloginAfterDays } : {}),
    health: { status: states.includes('open') ? 'unavailable' : states.includes('half_open') ? 'degraded' : 'available', login, api },
  };
}
