import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { banksConfig, type Service } from '../config/banks.config.js';
import type { ConfigOf } from '../config/define-config.js';
import { AppError } from '../common/errors/app-error.js';
import { BankMetrics } from '../common/metrics/bank.metrics.js';
import type { AspspAdapter } from './aspsp-adapter.js';
import { ConnectPayAdapter } from './connectpay/connectpay.adapter.js';
import { FloweAdapter } from './flowe/flowe.adapter.js';
import { BankHttpClient } from './http/bank-http.client.js';

export interface AspspSummary {
  id: string;
  name: string;
  services: Service[];
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

  list(): AspspSummary[] {
    return this.all().map((a) => ({ id: a.id, name: a.bank.name, services: a.bank.services }));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.all().map((a) => a.http.close()));
  }
}
