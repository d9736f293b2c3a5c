import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SANDBOX_CONFIG, type SandboxConfig } from '../config.js';
import { SandboxDirectory } from '../data/sandbox-directory.js';
import { requestOrigin } from '../gateway/client-cert.js';
import { renderHomePage } from './home-page.js';

@Controller()
export class HomeController {
  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly directory: SandboxDirectory,
  ) {}

  @Get()
  home(@Req() req: Request, @Res() res: Response): void {
    res.type('html').send(renderHomePage(requestOrigin(req, this.config), this.directory.data));
  }
}
