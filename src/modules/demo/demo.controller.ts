import { basename, dirname } from 'node:path';
import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/errors/problem.view.js';
import type { FastifyReply } from 'fastify';
import { AppError } from '../../common/errors/app-error.js';
import { appConfig, banksConfig } from '../../config/index.js';
import type { ConfigOf } from '../../config/define-config.js';
import { DemoConfigView, toDemoConfigView } from './demo-config.js';
import { listPageModules } from './page-files.js';
import { DEMO_PUBLIC_DIR, DEMO_VENDOR_MODULES } from './demo.tokens.js';

/**
 * The demo TPP page (sandbox mode only: DemoModule is not imported otherwise): `index.html`,
 * `app.css` and the ES modules under `js/`. A fixed list read at start-up, not a directory
 * listing: nothing else under `public/` (or above it) can be requested. The same holds for the
 * installed packages the page imports (`/js/vendor/openapi-fetch.mjs`): one named file each,
 * never a path into node_modules. The page is plain HTML and
 * same-origin module scripts, so the global CSP (`script-src 'self'`, `frame-ancestors 'none'`)
 * applies unchanged.
 */
@ApiTags('demo')
@Controller()
export class DemoController {
  private readonly modules: ReadonlySet<string>;

  constructor(
    @Inject(DEMO_PUBLIC_DIR) private readonly publicDir: string | undefined,
    @Inject(DEMO_VENDOR_MODULES) private readonly vendor: ReadonlyMap<string, string>,
    @Inject(appConfig.KEY) private readonly app: ConfigOf<typeof appConfig>,
    @Inject(banksConfig.KEY) private readonly banks: ConfigOf<typeof banksConfig>,
  ) {
    this.modules = publicDir ? listPageModules(publicDir) : new Set();
  }

  @Get()
  @ApiExcludeEndpoint()
  index(@Res() res: FastifyReply): void {
    this.send(res, 'index.html');
  }

  @Get('app.css')
  @ApiExcludeEndpoint()
  styles(@Res() res: FastifyReply): void {
    this.send(res, 'app.css');
  }

  /** `/js/main.js`, `/js/views/banks.js`, `/js/vendor/openapi-fetch.mjs`: only the modules listed at start-up. */
  // Fastify's router spells a wildcard `*` (last), and names the rest of the path `*`.
  @Get('js/*')
  @ApiExcludeEndpoint()
  module(@Param('*') file: string, @Res() res: FastifyReply): void {
    if (this.modules.has(file)) return this.send(res, `js/${file}`);
    const vendored = this.vendor.get(file);
    if (vendored) return this.send(res, basename(vendored), dirname(vendored));
    throw AppError.notFound('This file');
  }

  @Get('demo/config.json')
  @ApiOperation({ operationId: 'getDemoConfig', summary: 'Sandbox mode only: where the demo page finds the sandbox ASPSP (its PSU app)' })
  @ApiOkResponse({ type: DemoConfigView })
  // 404 in production mode, where the demo is not part of the app.
  @ApiProblems('not_found')
  config(): DemoConfigView {
    return toDemoConfigView(this.app, this.banks);
  }

  /**
   * Through @fastify/static's `reply.sendFile` (registered in configure-app.ts, serving nothing by
   * itself): the file's type, ETag and Last-Modified, and a 304 to a revalidation.
   */
  private send(res: FastifyReply, file: string, root = this.publicDir): void {
    // The vendor modules too: they are part of the page, not files of their own.
    if (!this.publicDir || !root) throw new AppError('not_found', 'The demo page is not part of this build');
    // no-cache: revalidate on every load (ETag), so an edited page (or an upgraded package) is never served stale.
    void res.header('Cache-Control', 'no-cache').sendFile(file, root, { cacheControl: false, dotfiles: 'deny' });
  }
}
