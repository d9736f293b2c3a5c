import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { BankLoginService } from './bank-login.service.js';

/**
 * The browser side of a bank login: `/auth/{aspspId}/login` (the `authorizationUrl` the frontend
 * navigates to, top level; `POST` is the confirmation page's answer) and `/auth/{aspspId}/callback`
 * (the redirect URI registered at the bank).
 */
@ApiExcludeController()
@Controller('auth/:aspspId')
export class AuthController {
  constructor(private readonly login: BankLoginService) {}

  @Get('login')
  start(@Param('aspspId') aspspId: string, @Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.login.start(aspspId, query, req, res);
  }

  @Post('login')
  confirm(@Param('aspspId') aspspId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.login.confirm(aspspId, req, res);
  }

  @Get('callback')
  async callback(@Param('aspspId') aspspId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    res.redirect(302, await this.login.finish(aspspId, req, res));
  }
}
