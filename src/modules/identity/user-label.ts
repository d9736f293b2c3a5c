import type { JWTPayload } from 'jose';

/** Claims that name a user to themselves, most recognisable first (OpenID Connect standard claims). */
const LABEL_CLAIMS = ['email', 'preferred_username', 'name'] as const;
const MAX_LABEL_LENGTH = 100;

/**
 * What a page shows as "this app account": the first of `email`, `preferred_username`, `name`
 * that the token carries, else the subject. Control, formatting (bidi, zero-width) and separator
 * characters are dropped, so a label cannot reorder or hide text on the page that shows it.
 */
export function userLabel(payload: JWTPayload, subject: string): string {
  for (const claim of LABEL_CLAIMS) {
    const value = payload[claim];
    if (typeof value !== 'string') continue;
    const label = plainText(value);
    if (label !== '') return label;
  }
  return plainText(subject) || subject.slice(0, MAX_LABEL_LENGTH);
}

function plainText(value: string): string {
  const text = value
    .replace(/[\s\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .trim();
  return [...text].slice(0, MAX_LABEL_LENGTH).join('');
}
