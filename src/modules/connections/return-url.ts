import { AppError } from '../../common/errors/app-error.js';
import { normaliseReturnUrl } from '../../config/app.config.js';

/**
 * A return URL is accepted only when its origin and path are exactly on the allow-list (no prefix
 * or suffix matching, no credentials, no fragment), so the bank's redirect can never be turned into
 * an open redirect (`//evil`, `/\evil`, `https://localhost:3000.evil/`, `javascript:`).
 */
export function checkReturnUrl(value: string, allowList: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw AppError.validation([{ field: 'returnUrl', message: 'must be an absolute URL on the allow-list' }]);
  }
  const onList =
    (url.protocol === 'https:' || url.protocol === 'http:') &&
    !url.username &&
    !url.password &&
    !url.hash &&
    allowList.includes(normaliseReturnUrl(url.toString()));
  if (!onList || value.includes('\\') || /[\s\u0000-\u001f]/.test(value)) {
    throw AppError.validation([{ field: 'returnUrl', message: 'is not on the allowed return URL list' }]);
  }
  return url.toString();
}
