import { ArgumentMetadata } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsString, MaxLength, ValidateNested } from 'class-validator';
import { AppError } from '../../src/common/errors/app-error.js';
import { createValidationPipe } from '../../src/common/errors/validation.js';
import { TransactionsQueryDto } from '../../src/modules/ais/dto/read-query.dto.js';

class Amount {
  @IsString() amount!: string;
  @IsString() @MaxLength(3) currency!: string;
}

class Body {
  @IsString() @MaxLength(5) name!: string;
  @IsInt() count!: number;
  @ValidateNested() @Type(() => Amount) instructedAmount!: Amount;
}

const metadata: ArgumentMetadata = { type: 'body', metatype: Body };

describe('validation pipe', () => {
  const pipe = createValidationPipe();

  async function rejection(value: unknown): Promise<AppError> {
    try {
      await pipe.transform(value, metadata);
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
    throw new Error('expected the pipe to reject');
  }

  it('lists every bad field, nested ones with dotted paths', async () => {
    const error = await rejection({ name: 'too long', count: 'x', instructedAmount: { amount: 5, currency: 'EURO' } });
    expect(error.code).toBe('validation_failed');
    const fields = (error.extensions.errors as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(['count', 'instructedAmount.amount', 'instructedAmount.currency', 'name']);
  });

  it('refuses unknown properties instead of dropping them', async () => {
    const error = await rejection({ name: 'ok', count: 1, instructedAmount: { amount: '1', currency: 'EUR' }, admin: true });
    expect(error.extensions.errors).toEqual([expect.objectContaining({ field: 'admin' })]);
  });

  it('passes a valid body through as a class instance', async () => {
    await expect(pipe.transform({ name: 'ok', count: 1, instructedAmount: { amount: '1', currency: 'EUR' } }, metadata)).resolves.toBeInstanceOf(Body);
  });
});

describe('integer query parameters', () => {
  const pipe = createValidationPipe();
  const query: ArgumentMetadata = { type: 'query', metatype: TransactionsQueryDto };

  async function messages(value: Record<string, string>): Promise<{ field: string; message: string }[]> {
    const error = await pipe.transform(value, query).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof AppError)) throw new Error('expected the pipe to reject');
    return error.extensions.errors as { field: string; message: string }[];
  }

  it.each([
    ['2.5', 'must be an integer'],
    ['abc', 'must be an integer'],
    ['1e2', 'must be an integer'],
    ['0', 'must be between 1 and 1000'],
    ['1001', 'must be between 1 and 1000'],
  ])('limit=%s says one true thing: %s', async (limit, message) => {
    expect(await messages({ limit })).toEqual([{ field: 'limit', message }]);
  });

  it('takes a whole number in range', async () => {
    await expect(pipe.transform({ limit: '25', offset: '0' }, query)).resolves.toMatchObject({ limit: 25, offset: 0 });
  });
});
