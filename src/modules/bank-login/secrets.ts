import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** 256 bits from the CSPRNG, URL-safe: tickets, states and browser bindings. */
export const randomSecret = (): string => randomBytes(32).toString('base64url');

/** ConnectPay requires the nonce to be a GUIDv4 (122 random bits). */
export const randomNonce = (): string => randomUUID();

/** Only hashes are stored: a database dump holds no usable ticket, state or binding. */
export const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export const sameHash = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);
