import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import { SANDBOX_TOKEN_TTL_SECONDS } from '../sandbox-token.issuer.js';

export class SandboxLoginDto {
  @ApiProperty({ description: 'Any demo user id; it becomes the token subject', example: 'alice', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._@-]+$' })
  @IsString()
  @Length(1, 64)
  @Matches(/^[A-Za-z0-9._@-]+$/, { message: 'userId may contain only letters, digits and . _ @ -' })
  readonly userId!: string;
}

export class UserTokenDto {
  @ApiProperty({ description: 'Send as `Authorization: Bearer <token>` on every /api/v1 call' })
  readonly token!: string;

  @ApiProperty({ enum: ['Bearer'] })
  readonly tokenType!: 'Bearer';

  @ApiProperty({ type: 'integer', description: 'Seconds until the token expires', example: SANDBOX_TOKEN_TTL_SECONDS })
  readonly expiresIn!: number;
}
