import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { VaultKey } from '../../config/vault.config.js';
import { VaultError } from './vault-error.js';

export const TOKEN_FIELDS = ['access_token', 'refresh_token'] as const;
export type TokenField = (typeof TOKEN_FIELDS)[number];

/**
 * Where a ciphertext lives and whose it is. It is authenticated with the ciphertext, so it cannot
 * be moved to another row or column, nor stay valid when its row is moved to another user or bank.
 */
export interface VaultBinding {
  /** The `connections.id` of the row the ciphertext is stored in. */
  readonly connectionId: string;
  /** The row's `user_id`: the TPP user the bank granted access to. */
  readonly userId: string;
  /** The row's `aspsp_id`: the bank that issued the token. */
  readonly aspspId: string;
  readonly field: TokenField;
}

/** Written by `encrypt`. v1 (connection and column only) is still opened, and rewritten by `vault:rotate`. */
const VERSION = 'v2';
const VERSIONS = ['v1', 'v2'] as const;
type Version = (typeof VERSIONS)[number];
const ALGORITHM = 'aes-256-gcm';
/** 96 bits: the IV size GCM is specified for (other sizes are hashed into one, with weaker bounds). */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEGMENT = /^[A-Za-z0-9_-]*$/;
const CONNECTION_ID = /^[A-Za-z0-9_-]{1,128}$/;
const ASPSP_ID = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * AES-256-GCM for tokens at rest, with key ids for rotation without downtime.
 *
 * Envelope: `v2.<keyId>.<iv>.<ciphertext>.<tag>`, binary parts in unpadded base64url. The version
 * lets formats coexist; the key id says which configured key opens it, so new rows use the first
 * key while rows under older keys (or in the older format) keep working until `vault:rotate`
 * rewrites them.
 *
 * Associated data (v2): `tpp-bff/v2/users/<userId>/banks/<aspspId>/connections/<connectionId>/<field>`
 * (the user id percent-encoded) plus the envelope header. GCM authenticates it without storing it,
 * so a ciphertext copied into another connection's row, from the refresh-token column into the
 * access-token column, or left in a row whose `user_id` or `aspsp_id` was changed, fails to open
 * instead of handing one PSU's bank access to another TPP user (or a long-lived token to code that
 * expects a short-lived one). v1 bound only the connection and the column; it still opens, and
 * `needsRotation` reports it so `vault:rotate` rewrites it as v2.
 *
 * IVs: 96 random bits per encryption, never a counter that could restart. An IV repeated under one
 * key breaks GCM completely (keystream reuse and tag forgery), and with random IVs the chance of a
 * repeat stays below 2^-32 only up to 2^32 encryptions per key (NIST SP 800-38D, 8.3). Each token
 * refresh is one or two encryptions, so that is far away, but rotate keys well before it (yearly,
 * say, or whenever a key may have leaked): the count restarts with every new key.
 *
 * Tag length: decryption is told to expect exactly 16 bytes and a tag of any other length is refused
 * before `setAuthTag`. Otherwise Node accepts shorter tags (down to 4 bytes), and an attacker who can
 * write the database could cut the tag and forge ciphertexts by brute force.
 */
export class TokenCipher {
  private readonly keys: ReadonlyMap<string, Buffer>;
  readonly currentKeyId: string;

  constructor(keys: readonly VaultKey[]) {
    if (keys.length === 0) throw new TypeError('TokenCipher needs at least one key');
    for (const key of keys) {
      if (key.secret.length !== 32) throw new TypeError('TokenCipher keys must be 32 bytes');
    }
    this.keys = new Map(keys.map((k) => [k.id, k.secret]));
    if (this.keys.size !== keys.length) throw new TypeError('TokenCipher key ids must be unique');
    this.currentKeyId = keys[0].id;
  }

  encrypt(plaintext: string, binding: VaultBinding): string {
    const keyId = this.currentKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.keys.get(keyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(VERSION, keyId, binding));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, keyId, iv, ciphertext, tag].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  }

  /** Throws {@link VaultError} for anything that is not an intact envelope made for this binding. */
  decrypt(envelope: string, binding: VaultBinding): string {
    const { version, keyId, iv, ciphertext, tag } = parseEnvelope(envelope);
    const key = this.keys.get(keyId);
    if (!key) throw new VaultError('unknown_key');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new VaultError('malformed');
    const aad = associatedData(version, keyId, binding);
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    decipher.setAAD(aad);
    // GCM releases plaintext from update() before final() has checked the tag: it is wiped, not
    // returned, when the check fails, and no library error (or its stack) leaves this method.
    const plaintext = decipher.update(ciphertext);
    try {
      decipher.final();
      return plaintext.toString('utf8');
    } catch {
      throw new VaultError('authentication_failed');
    } finally {
      plaintext.fill(0);
    }
  }

  /** The key id an envelope was written under, without decrypting it. */
  keyIdOf(envelope: string): string {
    return parseEnvelope(envelope).keyId;
  }

  /** True when `envelope` is under an older key or in the older format: `vault:rotate` rewrites it. */
  needsRotation(envelope: string): boolean {
    const { version, keyId } = parseEnvelope(envelope);
    return version !== VERSION || keyId !== this.currentKeyId;
  }
}

function associatedData(version: Version, keyId: string, { connectionId, userId, aspspId, field }: VaultBinding): Buffer {
  // A bad binding is a programming error, not bad data: fail loudly rather than bind to garbage.
  if (!CONNECTION_ID.test(connectionId)) throw new TypeError('VaultBinding.connectionId must be a row id');
  if (!TOKEN_FIELDS.includes(field)) throw new TypeError('VaultBinding.field must be access_token or refresh_token');
  if (version === 'v1') return Buffer.from(`v1.${keyId}|tpp-bff/v1/connections/${connectionId}/${field}`, 'utf8');
  if (typeof userId !== 'string' || userId === '') throw new TypeError('VaultBinding.userId must be the row user id');
  if (!ASPSP_ID.test(aspspId)) throw new TypeError('VaultBinding.aspspId must be a bank id');
  // Percent-encoding keeps the user id from reaching into the next path segment (`a/banks/x` is one id).
  return Buffer.from(`v2.${keyId}|tpp-bff/v2/users/${encodeURIComponent(userId)}/banks/${aspspId}/connections/${connectionId}/${field}`, 'utf8');
}

function parseEnvelope(envelope: string): { version: Version; keyId: string; iv: Buffer; ciphertext: Buffer; tag: Buffer } {
  if (typeof envelope !== 'string') throw new VaultError('malformed');
  const parts = envelope.split('.');
  if (parts.length !== 5 || !(VERSIONS as readonly string[]).includes(parts[0])) throw new VaultError('malformed');
  const [version, keyId, iv, ciphertext, tag] = parts as [Version, string, string, string, string];
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(keyId)) throw new VaultError('malformed');
  return { version, keyId, iv: decodeSegment(iv), ciphertext: decodeSegment(ciphertext), tag: decodeSegment(tag) };
}

/**
 * Strict base64url: Node's decoder skips characters it does not know and ignores trailing bits, so
 * a segment is accepted only if it re-encodes to exactly itself (one envelope, one byte string).
 */
function decodeSegment(segment: string): Buffer {
  if (!SEGMENT.test(segment)) throw new VaultError('malformed');
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) throw new VaultError('malformed');
  return bytes;
}
