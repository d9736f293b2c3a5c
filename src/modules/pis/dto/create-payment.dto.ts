import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, Matches, MaxLength, ValidateBy, ValidateNested, type ValidationOptions } from 'class-validator';
import { amountProblem, ibanProblem, normaliseIban, sepaTextProblem } from '../payment-rules.js';

/** SEPA's basic Latin set for references; no leading, trailing or double `/` (EPC rulebook). */
const SEPA_REFERENCE = /^(?!\/)(?!.*\/\/)(?!.*\/$)[A-Za-z0-9/?:().,'+ -]{1,35}$/;

function IsSepaIban(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    { name: 'isSepaIban', validator: { validate: (v) => ibanProblem(v) === undefined, defaultMessage: (args) => ibanProblem(args?.value) ?? '' } },
    options,
  );
}

/** Creditor name and remittance text: the EPC's Latin character set (see sepaTextProblem). */
function IsSepaText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    { name: 'isSepaText', validator: { validate: (v) => sepaTextProblem(v) === undefined, defaultMessage: (args) => sepaTextProblem(args?.value) ?? '' } },
    options,
  );
}

/** Needs the sibling `currency` for the number of decimals (EUR: 2). */
function IsPaymentAmount(options?: ValidationOptions): PropertyDecorator {
  const problem = (value: unknown, object: object) => amountProblem(value, (object as { currency?: unknown }).currency);
  return ValidateBy(
    {
      name: 'isPaymentAmount',
      validator: {
        validate: (v, args) => problem(v, args!.object) === undefined,
        defaultMessage: (args) => (args ? (problem(args.value, args.object) ?? '') : ''),
      },
    },
    options,
  );
}

export class AccountReferenceDto {
  @ApiProperty({
    example: 'IT16N3677201600000000410001',
    description: 'IBAN only (Flowe guide 4.2) of a SEPA country, not a Swiss or Liechtenstein QR-IBAN; spaces and lower case are normalised',
  })
  @Transform(({ value }) => normaliseIban(value))
  @IsString()
  @MaxLength(64)
  @IsSepaIban()
  readonly iban!: string;
}

export class InstructedAmountDto {
  @ApiProperty({
    pattern: '^(0|[1-9][0-9]{0,13})(\\.[0-9]{1,3})?$',
    example: '12.50',
    description: 'Decimal string > 0, no leading zeros, at most 2 decimals for EUR (never a number)',
  })
  @IsString()
  @MaxLength(32)
  @IsPaymentAmount()
  readonly amount!: string;

  @ApiProperty({ pattern: '^[A-Z]{3}$', example: 'EUR', description: 'ISO 4217; must be one the bank accepts (Flowe: EUR)' })
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: '$property must be an ISO 4217 code such as EUR' })
  readonly currency!: string;
}

/** `POST /api/v1/connections/{id}/payments`: a SEPA credit transfer (Berlin Group field names). */
export class CreatePaymentDto {
  @ApiProperty({ type: AccountReferenceDto })
  @IsObject()
  @ValidateNested()
  @Type(() => AccountReferenceDto)
  readonly debtorAccount!: AccountReferenceDto;

  @ApiProperty({ type: AccountReferenceDto })
  @IsObject()
  @ValidateNested()
  @Type(() => AccountReferenceDto)
  readonly creditorAccount!: AccountReferenceDto;

  @ApiProperty({
    example: 'Bob Bianchi',
    maxLength: 70,
    pattern: "^[A-Za-z0-9/\\-?:().,'+ ]*$",
    description: "SEPA (EPC) Latin characters only: a-z A-Z 0-9 space / - ? : ( ) . , ' +",
  })
  @IsString()
  @MaxLength(70)
  @Matches(/\S/, { message: '$property must not be blank' })
  @IsSepaText()
  readonly creditorName!: string;

  @ApiProperty({ type: InstructedAmountDto })
  @IsObject()
  @ValidateNested()
  @Type(() => InstructedAmountDto)
  readonly instructedAmount!: InstructedAmountDto;

  @ApiPropertyOptional({
    example: 'Dinner, 12 May',
    maxLength: 140,
    pattern: "^[A-Za-z0-9/\\-?:().,'+ ]*$",
    description: "SEPA (EPC) Latin characters only: a-z A-Z 0-9 space / - ? : ( ) . , ' +",
  })
  @IsOptional()
  @IsString()
  @MaxLength(140)
  @IsSepaText()
  readonly remittanceInformationUnstructured?: string;

  @ApiPropertyOptional({
    example: 'INV-2026-0042',
    maxLength: 35,
    description: 'Generated from the payment id when left out, so every payment can be reconciled',
  })
  @IsOptional()
  @IsString()
  @MaxLength(35)
  @Matches(SEPA_REFERENCE, { message: "$property must be 1–35 SEPA characters (letters, digits, / - ? : ( ) . , ' + and space)" })
  readonly endToEndIdentification?: string;
}
