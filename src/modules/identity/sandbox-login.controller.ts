import { Body, Controller, Inject, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/errors/problem.view.js';
import { AppError } from '../../common/errors/app-error.js';
import { authConfig } from '../../config/auth.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { SandboxLoginDto, UserTokenDto } from './dto/sandbox-login.dto.js';
import { SandboxTokenIssuer } from './sandbox-token.issuer.js';

/**
 * The demo login (docs/design.md, "The frontend contract"): any user id, no password. Registered only in sandbox
 * mode (SandboxLoginModule), so production answers 404 because the route does not exist, not because of a check.
 */
@ApiTags('identity')
@Controller('api/v1/sandbox')
export class SandboxLoginController {
  constructor(
    private readonly issuer: SandboxTokenIssuer,
    @Inject(authConfig.KEY) private readonly config: ConfigOf<typeof authConfig>,
  ) {}

  @Post('login')
  @ApiOperation({ operationId: 'sandboxLogin', summary: 'Sandbox mode only: a user token for any demo user id' })
  @ApiCreatedResponse({ type: UserTokenDto })
  // 404: an identity provider key source is configured, so tokens of ours would not be accepted.
  @ApiProblems('validation_failed', 'not_found')
  async login(@Body() body: SandboxLoginDto): Promise<UserTokenDto> {
    // With AUTH_JWKS_URL / AUTH_PUBLIC_KEY set, tokens come from that IdP and the verifier would
    // refuse ours: do not hand out tokens that cannot work.
    if (this.config.keySource.kind !== 'sandbox')
      throw new AppError('not_found', 'The sandbox login is off because an identity provider key source is configured');
    return this.issuer.issue(body.userId);
  }
}
