import type { FastifyRequest } from 'fastify';
import { AppError } from '../../common/errors/app-error.js';
import { mediaTypeOf } from '../../common/http/media-type.js';

/**
 * The login route takes a ticket and nothing else. A `code`, `state` or `error` arriving there is
 * never a callback (the bank returns to `/auth/{aspspId}/callback`): it is refused before the
 * ticket is looked at, so a crafted link cannot burn it either.
 */
export function loginTicketOf(query: Record<string, unknown>): string {
  const unexpected = Object.keys(query).filter((key) => key !== 'ticket');
  if (unexpected.length > 0) {
    throw AppError.validation(
      unexpected.slice(0, 5).map((key) => ({
        field: `query:${key.slice(0, 40)}`,
        message: 'is not accepted: this route only starts a login (the bank returns to /auth/{aspspId}/callback)',
      })),
    );
  }
  const ticket = query.ticket;
  if (typeof ticket !== 'string' || ticket.length < 20 || ticket.length > 200) {
    throw AppError.validation([{ field: 'ticket', message: 'is missing or malformed' }]);
  }
  return ticket;
}

export type ConfirmDecision = 'continue' | 'cancel';

/** The confirmation page's form: its one-time token and the button pressed, nothing else. */
export function confirmationFormOf(req: FastifyRequest): { confirmation: string; decision: ConfirmDecision } {
  if (mediaTypeOf(req.raw) !== 'application/x-www-form-urlencoded')
    throw new AppError('unsupported_media_type', 'The confirmation is a form post (application/x-www-form-urlencoded)');
  const body = (req.body ?? {}) as Record<string, unknown>;
  const errors = Object.keys(body)
    .filter((key) => key !== 'confirmation' && key !== 'decision')
    .slice(0, 5)
    .map((key) => ({ field: key.slice(0, 40), message: 'is not accepted' }));
  const { confirmation, decision } = body;
  if (typeof confirmation !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(confirmation)) errors.push({ field: 'confirmation', message: 'is missing or malformed' });
  if (decision !== 'continue' && decision !== 'cancel') errors.push({ field: 'decision', message: 'must be continue or cancel' });
  if (errors.length > 0) throw AppError.validation(errors);
  return { confirmation: confirmation as string, decision: decision as ConfirmDecision };
}

/**
 * A confirmation must be posted by the confirmation page itself: a browser says where a form post
 * comes from with `Sec-Fetch-Site` (and `Origin`), and a post from another site is refused before
 * its token is looked at. `Origin: null` is what browsers send under this service's
 * `Referrer-Policy: no-referrer`, so it proves nothing either way; the start cookie (SameSite=Strict,
 * bound to the token) is the check that does not depend on headers at all.
 */
export function assertSameOrigin(req: FastifyRequest, publicUrl: string): void {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  const crossSite = site !== undefined ? site !== 'same-origin' : origin !== undefined && origin !== 'null' && origin !== new URL(publicUrl).origin;
  if (crossSite) throw new AppError('forbidden', 'The confirmation must be sent from the confirmation page');
}
