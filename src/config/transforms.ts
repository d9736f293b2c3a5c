import { Transform } from 'class-transformer';

/** Env values are strings; these turn them into the types the schema validates. */
export const ToInt = () => Transform(({ value }) => (typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value));

export const ToNumber = () => Transform(({ value }) => (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value));

export const ToBool = () =>
  Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    if (/^(true|1|yes)$/i.test(value)) return true;
    if (/^(false|0|no)$/i.test(value)) return false;
    return value;
  });

export const ToList = () =>
  Transform(({ value }) =>
    typeof value === 'string'
      ? value
          .split(/[,\s]+/)
          .map((item) => item.trim())
          .filter(Boolean)
      : value,
  );
