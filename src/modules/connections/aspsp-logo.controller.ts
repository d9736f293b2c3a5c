import { Controller, Get, Header, Param, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { ApiProblems } from '../../common/errors/problem.view.js';
import { AppError } from '../../common/errors/app-error.js';

/**
 * `GET /aspsps/{id}/logo`: a configured bank's logo (`<ID>_LOGO_FILE`, or the sandbox's stand-in).
 * Public, so a page can use it in `<img src>` (which cannot send a user token); it says nothing
 * about any user. An SVG is served with a CSP that lets it run no script, and never sniffed.
 */
@ApiTags('connections')
@Controller('aspsps')
export class AspspLogoController {
  constructor(private readonly aspsps: AspspRegistry) {}

  @Get(':id/logo')
  @ApiOperation({ operationId: 'getAspspLogo', summary: "A bank's logo (no authentication: for <img src>)" })
  @ApiOkResponse({
    description: 'The image',
    content: Object.fromEntries(['image/svg+xml', 'image/png', 'image/webp'].map((type) => [type, { schema: { type: 'string', format: 'binary' } }])),
  })
  @ApiProblems('not_found')
  @Header('Cache-Control', 'public, max-age=86400')
  @Header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
  @Header('X-Content-Type-Options', 'nosniff')
  logo(@Param('id') id: string): StreamableFile {
    const logo = this.aspsps.get(id).bank.logo;
    if (!logo) throw AppError.notFound('Logo');
    return new StreamableFile(logo.body, { type: logo.contentType, length: logo.body.length });
  }
}
