import { Body, Controller, Delete, Get, Headers, Inject, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../common/errors/app-error.js';
import type { ConfigOf } from '../../config/define-config.js';
import { pisConfig } from '../../config/pis.config.js';
import { sendProblem, type Problem } from '../../common/errors/problem.js';
import { ApiProblems, BANK_FAILURES } from '../../common/errors/problem.view.js';
import { Authenticated, CurrentUser, type AuthenticatedUser } from '../identity/index.js';
import { CreatePaymentDto } from './dto/create-payment.dto.js';
import { decodeCursor, encodeCursor, GetPaymentQueryDto, ListPaymentsQueryDto } from './dto/payment-queries.dto.js';
import { PaymentInitiationService } from './payment-initiation.service.js';
import { PaymentListView, PaymentView, toPaymentView } from './payment.view.js';
import { PaymentsService } from './payments.service.js';

const uuid = new ParseUUIDPipe({ version: '4' });

@ApiTags('payments')
@Authenticated()
@Controller('api/v1')
export class PaymentsController {
  constructor(
    private readonly initiation: PaymentInitiationService,
    private readonly payments: PaymentsService,
    @Inject(pisConfig.KEY) private readonly config: ConfigOf<typeof pisConfig>,
  ) {}

  @Post('connections/:id/payments')
  @ApiOperation({
    operationId: 'createPayment',
    summary: 'Initiate a SEPA credit transfer, exactly once per Idempotency-Key',
    description:
      'Same key + same body → the first answer again (same status and body, header Idempotent-Replayed: true); same key + another body → 422; same key while the first is in flight → waits, then 409 + Retry-After. A bank timeout answers 504 with paymentStatus "unknown": the payment is never re-sent.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: true,
    description: '1–255 printable ASCII characters, unique per payment, scoped to the user',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7E]+$' },
  })
  @ApiBody({ type: CreatePaymentDto })
  @ApiCreatedResponse({
    type: PaymentView,
    headers: { Location: { description: 'The payment: /api/v1/payments/{id}', schema: { type: 'string' }, required: true } },
  })
  // 400 lists every bad field in `errors` (including `header:Idempotency-Key`); a bank refusal
  // (`bank_rejected`) leaves the payment RJCT; `bank_timeout` leaves it `unknown`, never re-sent.
  @ApiProblems(
    'validation_failed',
    'not_found',
    'service_not_granted',
    'connection_not_active',
    'bank_identity_conflict',
    'idempotency_key_in_flight',
    'idempotency_key_reused',
    ...BANK_FAILURES,
  )
  async create(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', uuid) connectionId: string,
    // Validated in the service together with the header and the bank's currencies: one 400 names every bad field.
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() req: FastifyRequest,
    // The status and body are the stored first answer (a replay answers exactly as the first time), so they are sent as they are.
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const result = await this.initiation.initiate({ userId: user.id, connectionId, body, idempotencyKey, psuIpAddress: psuIpOf(req) });
    if (result.replayed) void reply.header('Idempotent-Replayed', 'true');
    if (result.status >= 400) return sendProblem(reply, result.body as Problem);
    const id = typeof result.body.id === 'string' ? result.body.id : undefined;
    if (id) void reply.header('Location', `/api/v1/payments/${id}`);
    void reply.code(result.status).send(result.body);
  }

  @Get('payments')
  @ApiOperation({ operationId: 'listPayments', summary: "The user's payments, newest first" })
  @ApiOkResponse({ type: PaymentListView })
  async list(@CurrentUser() user: AuthenticatedUser, @Query() query: ListPaymentsQueryDto): Promise<PaymentListView> {
    const beforeSeq = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && beforeSeq === undefined) throw AppError.validation([{ field: 'cursor', message: 'is not a nextCursor value' }]);
    const limit = query.limit ?? 20;
    const page = await this.payments.list(user.id, { limit, beforeSeq, connectionId: query.connectionId });
    const last = page.payments.at(-1);
    return {
      payments: page.payments.map((p) => toPaymentView(p, this.config.settlementWindowMs)),
      ...(page.more && last ? { nextCursor: encodeCursor(last.seq) } : {}),
    };
  }

  @Get('payments/:id')
  @ApiOperation({ operationId: 'getPayment', summary: 'A payment: status as last polled (`?refresh=true` asks the bank now), SCA status and status history' })
  @ApiOkResponse({ type: PaymentView })
  @ApiProblems('not_found', ...BANK_FAILURES)
  async get(@CurrentUser() user: AuthenticatedUser, @Param('id', uuid) id: string, @Query() query: GetPaymentQueryDto): Promise<PaymentView> {
    const { payment, history } = await this.payments.get(user.id, id, query.refresh === 'true');
    return toPaymentView(payment, this.config.settlementWindowMs, history);
  }

  @Delete('payments/:id')
  @ApiOperation({ operationId: 'cancelPayment', summary: 'Cancel the payment at the bank (Berlin Group DELETE)' })
  @ApiNoContentResponse({ description: 'Cancelled (CANC)' })
  @ApiAcceptedResponse({ type: PaymentView, description: 'The PSU must authorise the cancellation in the bank app' })
  // 409 payment_not_cancellable: the bank answered 405, or it never confirmed the payment.
  @ApiProblems('not_found', 'payment_not_cancellable', ...BANK_FAILURES)
  async cancel(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', uuid) id: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PaymentView | undefined> {
    const result = await this.payments.cancel(user.id, id, psuIpOf(req));
    if (result.cancelled) {
      void reply.code(204);
      return undefined;
    }
    void reply.code(202);
    return toPaymentView(result.payment, this.config.settlementWindowMs);
  }
}

/**
 * The PSU's IP as Fastify determines it: the socket's peer, or the client named by a proxy listed
 * in TRUST_PROXY (a spoofed X-Forwarded-For from anyone else is ignored).
 */
function psuIpOf(req: FastifyRequest): string {
  const ip = req.ip ?? req.socket.remoteAddress ?? '';
  return ip.replace(/^::ffff:(?=\d{1,3}(\.\d{1,3}){3}$)/, '');
}
