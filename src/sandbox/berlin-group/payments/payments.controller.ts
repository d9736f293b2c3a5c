import { Controller, Delete, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SandboxDirectory } from '../../data/sandbox-directory.js';
import { Api, SandboxRoute, type ApiContext } from '../../gateway/request-context.js';
import { BankModesService } from '../../modes/bank-modes.service.js';
import { BgError, formatError } from '../bg-error.js';
import { LinkBuilder } from '../links.js';
import type { PaymentCreatedResponse, PaymentInitiation, TransactionStatus } from '../wire.js';
import { validatePaymentRequest } from './payment-rules.js';
import { PaymentService, type Payment } from './payment.service.js';

/** "Flowe support “payments” as Payment-Service and “sepa-credit-transfer” as Payment-Product" (guide 4.2). */
const PRODUCTS = ['sepa-credit-transfers'];

@Controller(['connectpay/psd2/v1/payments', 'flowe/openbankingpis/v1/payments'])
export class PaymentsController {
  constructor(
    private readonly payments: PaymentService,
    private readonly directory: SandboxDirectory,
    private readonly links: LinkBuilder,
    private readonly modes: BankModesService,
  ) {}

  @Post(':paymentProduct')
  @HttpCode(201)
  @SandboxRoute('payments', 'pis')
  create(
    @Api() api: ApiContext,
    @Param('paymentProduct') product: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): PaymentCreatedResponse {
    checkProduct(product);
    // PSU-IP-Address is mandatory on payment initiation (Berlin Group: PSU-IP-Address_mandatory), under
    // the spelling the bank's psuIpHeader mode recognises.
    if (api.psuIp === undefined) {
      const mode = this.modes.of(api.profile).psuIpHeader;
      const header = mode === 'either' ? 'PSU-IP-Address' : mode;
      throw formatError(`${header} header is required for payment initiation`, header);
    }
    if (!req.is('application/json')) throw new BgError(415, 'FORMAT_ERROR', 'Content-Type must be application/json');
    const request = validatePaymentRequest(req.body);
    const own = this.directory.accountsOf(api.grant.customerId).some((a) => a.iban === request.debtorAccount.iban);
    if (!own) throw new BgError(400, 'RESOURCE_UNKNOWN', 'debtorAccount is not an account of the authorised PSU', 'debtorAccount.iban');
    const payment = this.payments.create(api.grant, product, request);
    const link = (path: string) => this.links.href(req, api.profile, 'pis', `/payments/${product}/${payment.id}${path}`);
    const self = link('');
    res.setHeader('Location', self.href);
    res.setHeader('ASPSP-SCA-Approach', 'DECOUPLED');
    return {
      transactionStatus: 'RCVD',
      paymentId: payment.id,
      transactionFeeIndicator: false,
      _links: { scaStatus: link(`/authorisations/${payment.authorisationId}`), self, status: link('/status') },
    };
  }

  @Get(':paymentProduct/:paymentId')
  @SandboxRoute('payment', 'pis')
  get(
    @Api() api: ApiContext,
    @Param('paymentProduct') product: string,
    @Param('paymentId') id: string,
  ): PaymentInitiation & { transactionStatus: TransactionStatus } {
    const payment = this.find(api, product, id);
    return { ...payment.request, transactionStatus: this.payments.statusOf(payment) };
  }

  @Get(':paymentProduct/:paymentId/status')
  @SandboxRoute('payment-status', 'pis')
  status(@Api() api: ApiContext, @Param('paymentProduct') product: string, @Param('paymentId') id: string): { transactionStatus: TransactionStatus } {
    return { transactionStatus: this.payments.statusOf(this.find(api, product, id)) };
  }

  @Get(':paymentProduct/:paymentId/authorisations')
  @SandboxRoute('payment-authorisations', 'pis')
  authorisations(@Api() api: ApiContext, @Param('paymentProduct') product: string, @Param('paymentId') id: string): { authorisationIds: string[] } {
    return { authorisationIds: [this.find(api, product, id).authorisationId] };
  }

  @Get(':paymentProduct/:paymentId/authorisations/:authorisationId')
  @SandboxRoute('payment-sca-status', 'pis')
  scaStatus(
    @Api() api: ApiContext,
    @Param('paymentProduct') product: string,
    @Param('paymentId') id: string,
    @Param('authorisationId') authorisationId: string,
  ): { scaStatus: string } {
    const payment = this.find(api, product, id);
    if (authorisationId !== payment.authorisationId) throw new BgError(403, 'RESOURCE_UNKNOWN', 'Unknown authorisation id for this payment');
    return { scaStatus: this.payments.scaStatusOf(payment) };
  }

  /** 204 and CANC while RCVD; 405 CANCELLATION_INVALID once the PSU has decided. */
  @Delete(':paymentProduct/:paymentId')
  @HttpCode(204)
  @SandboxRoute('payment-cancel', 'pis')
  cancel(@Api() api: ApiContext, @Param('paymentProduct') product: string, @Param('paymentId') id: string): void {
    this.payments.cancel(this.find(api, product, id));
  }

  private find(api: ApiContext, product: string, id: string): Payment {
    checkProduct(product);
    return this.payments.forPath(api.grant, product, id);
  }
}

function checkProduct(product: string): void {
  if (!PRODUCTS.includes(product)) throw new BgError(404, 'PRODUCT_UNKNOWN', `Payment product ${product} is not supported (only sepa-credit-transfers)`);
}
