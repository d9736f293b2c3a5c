import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { renderPsuPage } from './psu-page.js';
import { PsuService, type DecisionResult } from './psu.service.js';

/** The PSU side of decoupled SCA: an HTML page for people and a JSON API for tests and the demo page. */
@Controller('psu')
export class PsuController {
  constructor(private readonly psu: PsuService) {}

  @Get()
  page(@Query('username') username: unknown, @Query('notice') notice: unknown, @Res() res: Response): void {
    const who = nonEmpty(username);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(renderPsuPage(who, this.psu.pending(who), nonEmpty(notice)));
  }

  /** Form target of the page's Approve / Reject buttons; redirects back to the page. */
  @Post('decisions')
  decideFromPage(@Body() body: Record<string, unknown>, @Res() res: Response): void {
    const result = this.psu.decide(body);
    const params = new URLSearchParams({ notice: `${result.kind} ${result.id}: ${result.status}` });
    if (typeof body.username === 'string' && body.username !== '') params.set('username', body.username);
    res.redirect(303, `/psu?${params.toString()}`);
  }

  @Get('api/pending')
  pending(@Query('username') username: unknown) {
    return this.psu.pending(nonEmpty(username));
  }

  @Post('api/decisions')
  @HttpCode(200)
  decide(@Body() body: unknown): DecisionResult {
    return this.psu.decide(body);
  }
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
