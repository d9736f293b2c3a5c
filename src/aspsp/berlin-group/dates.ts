const DAY_MS = 86_400_000;

/** A calendar date (YYYY-MM-DD) in UTC: the reference Berlin Group and the Flowe guide use ("<TODAY_UTC>"). */
export function utcDate(at: Date | number = Date.now()): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** Adds whole days to a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
  return utcDate(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS);
}

/**
 * True for a real calendar date written YYYY-MM-DD (2024-02-30 is not one), from year 1900 on
 * (PostgreSQL has no year 0, and no bank account is older).
 */
export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^(19|[2-9]\d)\d{2}-\d{2}-\d{2}$/.test(value)) return false;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(ms) && utcDate(ms) === value;
}
