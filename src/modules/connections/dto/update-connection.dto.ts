import { ApiProperty } from '@nestjs/swagger';
import { ValidateIf } from 'class-validator';
import { EXTERNAL_REFERENCE_DESCRIPTION, EXTERNAL_REFERENCE_MAX, ExternalReference } from './external-reference.js';

export class UpdateConnectionDto {
  @ApiProperty({
    type: 'string',
    nullable: true,
    minLength: 1,
    maxLength: EXTERNAL_REFERENCE_MAX,
    example: 'cust-4711',
    description: `${EXTERNAL_REFERENCE_DESCRIPTION} null removes it.`,
  })
  // Present and a valid reference, or null (which clears it); absent is refused as not a string.
  @ValidateIf((dto: UpdateConnectionDto) => dto.externalReference !== null)
  @ExternalReference()
  readonly externalReference!: string | null;
}
