import { Controller, Delete, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SandboxClock } from '../../clock/sandbox-clock.js';
import { SandboxDirectory } from '../../data/sandbox-directory.js';
import { Api, SandboxRoute, type ApiContext } from '../../gateway/request-context.js';
import { BankModesService } from '../../modes/bank-modes.service.js';
import { BgError } from '../bg-error.js';
import { LinkBuilder } from '../links.js';
import type { ConsentCreatedResponse, ConsentInformationResponse } from '../wire.js';
import { validateConsentRequest } from './consent-rules.js';
import { ConsentService } from './consent.service.js';

/**
 * Berlin Group consent endpoints under both AIS bases. Decoupled SCA with implicit start of the
 * authorisation (Flowe guide 4): the authorisation sub-resource exists from creation on.
 */
@Controller(['connectpay/psd2/v1/consents', 'flowe/openbankingais/v1/consents'])
export class ConsentsController {
  constructor(
    private readonly consents: ConsentService,
    private readonly directory: SandboxDirectory,
    private readonly links: LinkBuilder,
    private readonly clock: SandboxClock,
    private readonly modes: BankModesService,
  ) {}

  /**
   * The answer follows the bank's `consentCreated` mode: `guide` is the Flowe guide's sample (4.1 step 3:
   * status 200, `consentId`, only `_links.status` written `/v1/consents/{id}/status`, `consentStatus`);
   * `berlin-group` is the spec's 201 with self, status and scaStatus links, Location and ASPSP-SCA-Approach.
   */
  @Post()
  @SandboxRoute('consents', 'ais')
  create(@Api() api: ApiContext, @Req() req: Request, @Res() res: Response): void {
    if (!req.is('application/json')) throw new BgError(415, 'FORMAT_ERROR', 'Content-Type must be application/json');
    const ownIbans = this.directory.accountsOf(api.grant.customerId).map((a) => a.iban);
    const request = validateConsentRequest(api.profile, req.body, this.clock.today(), ownIbans);
    const consent = this.consents.create(api.grant, request);
    if (this.modes.of(api.profile).consentCreated === 'guide') {
      const body: ConsentCreatedResponse = {
        consentId: consent.id,
        _links: { status: { href: `/v1/consents/${consent.id}/status` } },
        consentStatus: 'received',
      };
      res.status(200).json(body);
      return;
    }
    const link = (path: string) => this.links.href(req, api.profile, 'ais', `/consents/${consent.id}${path}`);
    const self = link('');
    res.setHeader('Location', self.href);
    res.setHeader('ASPSP-SCA-Approach', 'DECOUPLED');
    const body: ConsentCreatedResponse = {
      consentStatus: 'received',
      consentId: consent.id,
      _links: { self, status: link('/status'), scaStatus: link(`/authorisations/${consent.authorisationId}`) },
    };
    res.status(201).json(body);
  }

  @Get(':consentId')
  @SandboxRoute('consent', 'ais')
  get(@Api() api: ApiContext, @Param('consentId') id: string, @Req() req: Request): ConsentInformationResponse {
    const consent = this.consents.forPath(api.grant, id);
    const status = this.consents.statusOf(consent);
    const { combinedServiceIndicator: _, ...request } = consent.request;
    return {
      ...request,
      lastActionDate: consent.lastActionDate,
      consentStatus: status,
      ...(status === 'valid' ? { _links: { account: this.links.href(req, api.profile, 'ais', '/accounts') } } : {}),
    };
  }

  @Get(':consentId/status')
  @SandboxRoute('consent-status', 'ais')
  status(@Api() api: ApiContext, @Param('consentId') id: string): { consentStatus: string } {
    return { consentStatus: this.consents.statusOf(this.consents.forPath(api.grant, id)) };
  }

  @Get(':consentId/authorisations')
  @SandboxRoute('consent-authorisations', 'ais')
  authorisations(@Api() api: ApiContext, @Param('consentId') id: string): { authorisationIds: string[] } {
    return { authorisationIds: [this.consents.forPath(api.grant, id).authorisationId] };
  }

  @Get(':consentId/authorisations/:authorisationId')
  @SandboxRoute('consent-sca-status', 'ais')
  scaStatus(@Api() api: ApiContext, @Param('consentId') id: string, @Param('authorisationId') authorisationId: string): { scaStatus: string } {
    const consent = this.consents.forPath(api.grant, id);
    if (authorisationId !== consent.authorisationId) throw new BgError(403, 'RESOURCE_UNKNOWN', 'Unknown authorisation id for this consent');
    return { scaStatus: consent.scaStatus };
  }

  @Delete(':consentId')
  @HttpCode(204)
  @SandboxRoute('consent-delete', 'ais')
  delete(@Api() api: ApiContext, @Param('consentId') id: string): void {
    this.consents.terminate(this.consents.forPath(api.grant, id));
  }
}
