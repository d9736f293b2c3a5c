import { inspect } from 'node:util';
import { TokenCipher, type VaultBinding } from '../../src/modules/token-vault/token-cipher.js';
import { VaultError, type VaultErrorKind } from '../../src/modules/token-vault/vault-error.js';
import { CANARY_REFRESH, makeKey } from '../support/vault-keys.js';

const ROW_A: VaultBinding = { connectionId: '6f1c2b2e-4a57-4a8e-9c43-0d3f5e0a7b11', userId: 'alice@example.com', aspspId: 'flowe', field: 'refresh_token' };
const ROW_B: VaultBinding = { ...ROW_A, connectionId: '0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b' };

/**
 * Written by the previous release (envelope v1, associated data of the connection and column only)
 * under a key of 32 bytes of 0x01 with id k1: such rows are in databases today and must still open.
 */
const V1_FIXTURE = {
  key: { id: 'k1', secret: Buffer.alloc(32, 1) },
  connectionId: '11111111-1111-4111-8111-111111111111',
  access: ['v1.k1.tb_izOeI0nKOBGUp.-C4eOsUC2zrSrYDLjSXOJovQa3Op3RI.6uwUm25Jz0AFr20vy5UO7w', 'v1-access-token-fixture'],
  refresh: ['v1.k1.chfOEx99Ao1LomJX.wknzbf3sgceEproexza0HRD8K03HBwZ0.XX98xvkZKTw14H6rOYyNzA', 'v1-refresh-token-fixture'],
} as const;
const K1 = makeKey('k1');
const K2 = makeKey('k2');

function vaultError(fn: () => unknown): VaultError {
  try {
    fn();
  } catch (error) {
    if (error instanceof VaultError) return error;
    throw new Error(`expected a VaultError, got ${String(error)}`);
  }
  throw new Error('expected a VaultError, but it opened');
}

/** Everything an error would show in a log line, a problem body or a crash report. */
function everythingAbout(error: Error): string {
  return [error.message, error.stack, JSON.stringify(error), inspect(error, { depth: 10, showHidden: true }), String(error.cause)].join('\n');
}

function expectFailure(fn: () => unknown, kind: VaultErrorKind, secrets: string[] = [CANARY_REFRESH]): void {
  const error = vaultError(fn);
  expect(error.kind).toBe(kind);
  expect(error.cause).toBeUndefined();
  const text = everythingAbout(error);
  for (const secret of [...secrets, K1.secret.toString('base64'), K2.secret.toString('base64'), K1.secret.toString('hex')]) {
    expect(text).not.toContain(secret);
  }
}

/** Rebuilds an envelope with one decoded segment changed. */
function mutate(envelope: string, index: 2 | 3 | 4, change: (bytes: Buffer) => Buffer): string {
  const parts = envelope.split('.');
  parts[index] = change(Buffer.from(parts[index], 'base64url')).toString('base64url');
  return parts.join('.');
}

describe('TokenCipher', () => {
  const cipher = new TokenCipher([K1]);

  it('round-trips a token and writes a versioned envelope under the current key', () => {
    for (const token of [CANARY_REFRESH, 'ü-ñ-€-🔑', 'x'.repeat(8_000), '']) {
      const envelope = cipher.encrypt(token, ROW_A);
      expect(envelope).toMatch(/^v2\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/);
      expect(token !== '' && envelope.includes(token)).toBe(false);
      expect(cipher.decrypt(envelope, ROW_A)).toBe(token);
    }
  });

  it('never produces the same ciphertext twice: a fresh random IV every time', () => {
    const envelopes = Array.from({ length: 200 }, () => cipher.encrypt(CANARY_REFRESH, ROW_A));
    expect(new Set(envelopes).size).toBe(200);
    expect(new Set(envelopes.map((e) => e.split('.')[2])).size).toBe(200);
  });

  it('refuses a ciphertext copied to another connection row', () => {
    const envelope = cipher.encrypt(CANARY_REFRESH, ROW_A);
    expectFailure(() => cipher.decrypt(envelope, ROW_B), 'authentication_failed');
  });

  it('refuses a ciphertext whose row was moved to another user or another bank', () => {
    const envelope = cipher.encrypt(CANARY_REFRESH, ROW_A);
    for (const moved of [
      { ...ROW_A, userId: 'bob@example.com' },
      { ...ROW_A, userId: 'alice@example.com ' },
      { ...ROW_A, aspspId: 'connectpay' },
    ]) {
      expectFailure(() => cipher.decrypt(envelope, moved), 'authentication_failed');
    }
    // The user id cannot reach into the next segment of the associated data.
    const tricky = cipher.encrypt(CANARY_REFRESH, { ...ROW_A, userId: 'eve/banks/flowe' });
    expectFailure(() => cipher.decrypt(tricky, { ...ROW_A, userId: 'eve' }), 'authentication_failed');
    expect(cipher.decrypt(tricky, { ...ROW_A, userId: 'eve/banks/flowe' })).toBe(CANARY_REFRESH);
  });

  it('opens envelopes of the previous format (v1), still bound to their row and column, and marks them for rotation', () => {
    const old = new TokenCipher([V1_FIXTURE.key]);
    const row = { connectionId: V1_FIXTURE.connectionId, userId: 'anyone', aspspId: 'flowe' };
    expect(old.decrypt(V1_FIXTURE.access[0], { ...row, field: 'access_token' })).toBe(V1_FIXTURE.access[1]);
    expect(old.decrypt(V1_FIXTURE.refresh[0], { ...row, field: 'refresh_token' })).toBe(V1_FIXTURE.refresh[1]);
    expect(old.needsRotation(V1_FIXTURE.access[0])).toBe(true);
    expectFailure(() => old.decrypt(V1_FIXTURE.access[0], { ...row, field: 'refresh_token' }), 'authentication_failed', [V1_FIXTURE.access[1]]);
    expectFailure(() => old.decrypt(V1_FIXTURE.access[0], { ...row, connectionId: ROW_A.connectionId, field: 'access_token' }), 'authentication_failed', [
      V1_FIXTURE.access[1],
    ]);
    // Relabelled as v2, the same bytes do not open: the version is part of what is authenticated.
    expectFailure(() => old.decrypt(V1_FIXTURE.access[0].replace(/^v1\./, 'v2.'), { ...row, field: 'access_token' }), 'authentication_failed', [
      V1_FIXTURE.access[1],
    ]);
    const rewritten = old.encrypt(V1_FIXTURE.access[1], { ...row, field: 'access_token' });
    expect(rewritten.startsWith('v2.k1.')).toBe(true);
    expect(old.needsRotation(rewritten)).toBe(false);
  });

  it('refuses a refresh token moved into the access-token column, and the reverse', () => {
    const refresh = cipher.encrypt(CANARY_REFRESH, ROW_A);
    const access = cipher.encrypt('canary-access', { ...ROW_A, field: 'access_token' });
    expectFailure(() => cipher.decrypt(refresh, { ...ROW_A, field: 'access_token' }), 'authentication_failed');
    expectFailure(() => cipher.decrypt(access, ROW_A), 'authentication_failed', ['canary-access']);
  });

  it.each([
    ['iv', 2],
    ['ciphertext', 3],
    ['tag', 4],
  ] as const)('refuses every single flipped bit in the %s', (_name, index) => {
    const envelope = cipher.encrypt(CANARY_REFRESH, ROW_A);
    const length = Buffer.from(envelope.split('.')[index], 'base64url').length;
    for (let bit = 0; bit < length * 8; bit++) {
      const flipped = mutate(envelope, index, (b) => {
        const copy = Buffer.from(b);
        copy[bit >> 3] ^= 1 << (bit & 7);
        return copy;
      });
      expectFailure(() => cipher.decrypt(flipped, ROW_A), 'authentication_failed');
    }
  });

  it('refuses a cut or extended tag before it reaches GCM (explicit 16-byte tag length)', () => {
    const envelope = cipher.encrypt(CANARY_REFRESH, ROW_A);
    for (const length of [0, 4, 8, 12, 15]) {
      expectFailure(
        () =>
          cipher.decrypt(
            mutate(envelope, 4, (tag) => tag.subarray(0, length)),
            ROW_A,
          ),
        'malformed',
      );
    }
    expectFailure(
      () =>
        cipher.decrypt(
          mutate(envelope, 4, (tag) => Buffer.concat([tag, Buffer.alloc(1)])),
          ROW_A,
        ),
      'malformed',
    );
    expectFailure(
      () =>
        cipher.decrypt(
          mutate(envelope, 2, (iv) => iv.subarray(0, 8)),
          ROW_A,
        ),
      'malformed',
    );
  });

  it('refuses an unknown key id, and a key id swapped for another configured key', () => {
    const envelope = cipher.encrypt(CANARY_REFRESH, ROW_A);
    expectFailure(() => new TokenCipher([K2]).decrypt(envelope, ROW_A), 'unknown_key');
    expectFailure(() => cipher.decrypt(envelope.replace('v2.k1.', 'v2.k9.'), ROW_A), 'unknown_key');
    // Same id, different key material (a wrongly configured key): GCM catches it.
    expectFailure(() => new TokenCipher([{ id: 'k1', secret: K2.secret }]).decrypt(envelope, ROW_A), 'authentication_failed');
    // The key id is authenticated too: relabelling does not help even when both keys are present.
    const both = new TokenCipher([K1, K2]);
    expectFailure(() => both.decrypt(envelope.replace('v2.k1.', 'v2.k2.'), ROW_A), 'authentication_failed');
  });

  it('refuses malformed envelopes', () => {
    const envelope = cipher.encrypt(CANARY_REFRESH, ROW_A);
    const [v, id, iv, ct, tag] = envelope.split('.');
    // A 16-byte tag is 22 base64url characters whose last 4 bits are unused (zero when canonical).
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const nonCanonicalTag = tag.slice(0, -1) + alphabet[alphabet.indexOf(tag.at(-1)!) ^ 1];
    const malformed = [
      '',
      CANARY_REFRESH,
      'v2',
      [v, id, iv, ct].join('.'),
      [v, id, iv, ct, tag, tag].join('.'),
      ['v3', id, iv, ct, tag].join('.'),
      ['V2', id, iv, ct, tag].join('.'),
      [v, '', iv, ct, tag].join('.'),
      [v, 'k/1', iv, ct, tag].join('.'),
      [v, 'k'.repeat(33), iv, ct, tag].join('.'),
      [v, id, `${iv}=`, ct, tag].join('.'),
      [v, id, iv.replace(/.$/, '+'), ct, tag].join('.'),
      [v, id, iv, `${ct}!`, tag].join('.'),
      [v, id, iv, ct, ` ${tag}`].join('.'),
      // Non-canonical base64url: the same bytes with different unused trailing bits.
      [v, id, iv, ct, nonCanonicalTag].join('.'),
      `${envelope}\n`,
    ];
    expect(malformed).toHaveLength(16);
    for (const candidate of malformed) expectFailure(() => cipher.decrypt(candidate, ROW_A), 'malformed');
    expect(Buffer.from(nonCanonicalTag, 'base64url').equals(Buffer.from(tag, 'base64url'))).toBe(true);
    expectFailure(() => cipher.decrypt([v, id, iv, ct, nonCanonicalTag].join('.'), ROW_A), 'malformed');
    expectFailure(() => cipher.decrypt(null as unknown as string, ROW_A), 'malformed');
    expectFailure(() => cipher.keyIdOf('garbage'), 'malformed');
  });

  it('opens old-key ciphertexts while encrypting under the new key', () => {
    const old = cipher.encrypt(CANARY_REFRESH, ROW_A);
    const rotated = new TokenCipher([K2, K1]);
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.decrypt(old, ROW_A)).toBe(CANARY_REFRESH);
    expect(rotated.keyIdOf(old)).toBe('k1');
    expect(rotated.needsRotation(old)).toBe(true);
    const fresh = rotated.encrypt(CANARY_REFRESH, ROW_A);
    expect(rotated.keyIdOf(fresh)).toBe('k2');
    expect(rotated.needsRotation(fresh)).toBe(false);
    expect(new TokenCipher([K2]).decrypt(fresh, ROW_A)).toBe(CANARY_REFRESH);
  });

  it('rejects bad bindings and bad keys as programming errors', () => {
    expect(() => cipher.encrypt('t', { ...ROW_A, connectionId: '' })).toThrow(TypeError);
    expect(() => cipher.encrypt('t', { ...ROW_A, connectionId: 'a/b' })).toThrow(TypeError);
    expect(() => cipher.encrypt('t', { ...ROW_A, field: 'id_token' as never })).toThrow(TypeError);
    expect(() => cipher.encrypt('t', { ...ROW_A, userId: '' })).toThrow(TypeError);
    expect(() => cipher.encrypt('t', { ...ROW_A, aspspId: 'Flowe/x' })).toThrow(TypeError);
    expect(() => new TokenCipher([])).toThrow(TypeError);
    expect(() => new TokenCipher([{ id: 'short', secret: Buffer.alloc(16) }])).toThrow(TypeError);
    expect(() => new TokenCipher([K1, { id: 'k1', secret: K2.secret }])).toThrow(TypeError);
  });
});
