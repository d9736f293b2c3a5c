import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class ReauthorizeConnectionDto {
  @ApiPropertyOptional({
    example: 'http://localhost:3000/',
    description: 'Where the browser returns after the bank login; must be on FRONTEND_RETURN_URLS. Default: the one the connection was made with',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  readonly returnUrl?: string;
}
