import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { SANDBOX_CONFIG, type Profile, type SandboxConfig } from '../config.js';
import { QuirksService } from '../faults/quirks.service.js';
import { requestOrigin } from '../gateway/client-cert.js';
import { apiBasePath } from '../gateway/request-context.js';
import type { Href } from './wire.js';

/**
 * Builds `_links` hrefs. Default: relative to the host, starting with the API base path
 * (`/flowe/openbankingais/v1/...`, `/connectpay/psd2/v1/...`); `POST /admin/link-quirks` switches a
 * profile to `/v1/...` (the Flowe guide's samples) or to absolute URLs.
 */
@Injectable()
export class LinkBuilder {
  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly quirks: QuirksService,
  ) {}

  /** `path` starts after `/v1`, e.g. `/consents/ID/status`. */
  href(req: Request, profile: Profile, service: 'ais' | 'pis', path: string): Href {
    const style = this.quirks.linkStyleFor(profile);
    if (style === 'api-relative') return { href: `/v1${path}` };
    const base = apiBasePath(profile, service) + path;
    return { href: style === 'absolute' ? requestOrigin(req, this.config) + base : base };
  }
}
