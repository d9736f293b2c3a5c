import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class AspspQueryDto {
  @ApiPropertyOptional({ example: 'IT', description: 'Only banks of this country (ISO 3166-1 alpha-2, any case)' })
  @IsOptional()
  @Matches(/^[A-Za-z]{2}$/, { message: 'country must be a two-letter ISO 3166 country code such as IT' })
  readonly country?: string;

  @ApiPropertyOptional({ example: 'flo', description: 'Only banks whose id, name or BIC contains this (any case)' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  readonly q?: string;
}
