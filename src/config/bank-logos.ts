import { extname } from 'node:path';
import type { ConfigProblems } from './define-config.js';
import { readConfigFile } from './files.js';

/** A bank's logo as the BFF serves it (`GET /aspsps/{id}/logo`): the bytes and their media type. */
export interface BankLogo {
  contentType: string;
  body: Buffer;
}

const MEDIA_TYPES: Record<string, string> = { '.svg': 'image/svg+xml', '.png': 'image/png', '.webp': 'image/webp' };
const MAX_LOGO_BYTES = 256 * 1024;

/** `<ID>_LOGO_FILE`: an SVG, PNG or WebP file, read once at start-up. */
export function readLogoFile(path: string, variable: string, problems: ConfigProblems): BankLogo | undefined {
  const contentType = MEDIA_TYPES[extname(path).toLowerCase()];
  if (!contentType) {
    problems.add(`${variable} must name an .svg, .png or .webp file`, variable);
    return undefined;
  }
  const body = readConfigFile(path, variable, problems);
  if (body && body.length > MAX_LOGO_BYTES) {
    problems.add(`${variable} must be at most ${MAX_LOGO_BYTES / 1024} KiB`, variable);
    return undefined;
  }
  return body ? { contentType, body } : undefined;
}

/**
 * The sandbox banks' stand-in logos: a monogram on the bank's colour, drawn here rather than
 * copied from the real banks' marks. Only XML-safe characters go in (the initial is a letter).
 */
export function monogramLogo(name: string, colour: string): BankLogo {
  const initial = /[A-Za-z]/.exec(name)?.[0]?.toUpperCase() ?? 'B';
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64" role="img" aria-label="${initial}">` +
    `<rect width="64" height="64" rx="14" fill="${colour}"/>` +
    `<text x="32" y="43" font-family="Arial, Helvetica, sans-serif" font-size="32" font-weight="700" fill="#ffffff" text-anchor="middle">${initial}</text></svg>`;
  return { contentType: 'image/svg+xml', body: Buffer.from(svg) };
}
