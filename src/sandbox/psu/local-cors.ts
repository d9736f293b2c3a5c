import type { NextFunction, Request, Response } from 'express';

const LOCAL_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

/**
 * CORS for the PSU JSON API and the admin calls, so a demo page served by the BFF (another local port)
 * can drive them from the browser. Only local origins are allowed; the bank APIs get no CORS at all.
 */
export function localCors(req: Request, res: Response, next: NextFunction): void {
  const origin = req.get('origin');
  if (origin !== undefined && LOCAL_ORIGIN.test(origin)) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
  }
  next();
}
