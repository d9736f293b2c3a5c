import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BankLoginService } from './bank-login.service.js';

/**
 * The browser side of a bank login: `/auth/{aspspId}/login` (the `authorizationUrl` the frontend
 * navigates to, top level; `POST` is the confirmation page's answer) and `/auth/{aspspId}/callback`
 * (the redirect URI registered at the bank).
 */
// The login answers with redirects and a page (and passport writes its own redirect), so the handlers take Fastify's reply.
@ApiExcludeController()
@Controller('auth/:aspspId')
export class AuthController {
  constructor(private readonly login: BankLoginService) {}

  @Get('login')
  start(@Param('aspspId') aspspId: string, @Query() query: Record<string, unknown>, @Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    return this.login.start(aspspId, query, req, res);
  }

  @Post('login')
  confirm(@Param('aspspId') aspspId: string, @Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    return this.login.confirm(aspspId, req, res);
  }

  @Get('callback')
  async callback(@Param('aspspId') aspspId: string, @Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    void res.redirect(await this.login.finish(aspspId, req, res), 302);
  }
}
