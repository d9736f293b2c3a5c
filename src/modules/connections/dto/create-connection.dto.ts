import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EXTERNAL_REFERENCE_DESCRIPTION, EXTERNAL_REFERENCE_MAX, ExternalReference } from './external-reference.js';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class CreateConnectionDto {
  @ApiProperty({ example: 'flowe' })
  @IsString()
  @MaxLength(40)
  @Matches(/^[a-z][a-z0-9-]*$/, { message: 'aspspId must be a bank id such as flowe' })
  readonly aspspId!: string;

  @ApiPropertyOptional({ enum: ['ais', 'pis'], isArray: true, description: 'Defaults to every service the bank offers' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(2)
  @ArrayUnique()
  @IsIn(['ais', 'pis'], { each: true })
  readonly services?: ('ais' | 'pis')[];

  @ApiProperty({ example: 'http://localhost:3000/', description: 'Where the browser returns after the bank login; must be on FRONTEND_RETURN_URLS' })
  @IsString()
  @MaxLength(2048)
  readonly returnUrl!: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: EXTERNAL_REFERENCE_MAX, example: 'cust-4711', description: EXTERNAL_REFERENCE_DESCRIPTION })
  @IsOptional()
  @ExternalReference()
  readonly externalReference?: string;
}
