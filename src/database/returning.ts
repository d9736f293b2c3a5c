/**
 * The rows of an `UPDATE/DELETE … RETURNING` run with `dataSource.query`: TypeORM's postgres driver
 * answers those with `[rows, affectedCount]` (and a SELECT with the rows alone).
 */
export function returningRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return (Array.isArray(result) ? result : []) as T[];
}
