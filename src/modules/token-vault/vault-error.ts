/**
 * Why a stored ciphertext could not be opened. Callers treat every kind the same way (the stored
 * token is unusable: ask the PSU to log in again); the kind is for operators and metrics.
 *
 * - `malformed`: not a vault envelope of a version we know (truncated, edited, wrong column).
 * - `unknown_key`: written under a key id that is no longer configured (removed too early).
 * - `authentication_failed`: GCM rejected it: a flipped bit, a cut or forged tag, the wrong key,
 *   or a ciphertext copied to another row or column (the associated data no longer matches).
 */
export type VaultErrorKind = 'malformed' | 'unknown_key' | 'authentication_failed';

const MESSAGES: Record<VaultErrorKind, string> = {
  malformed: 'Token vault: the stored ciphertext is malformed',
  unknown_key: 'Token vault: the stored ciphertext uses a key that is not configured',
  authentication_failed: 'Token vault: the stored ciphertext failed authentication',
};

/**
 * A decryption failure. The message is one fixed sentence per kind and there is deliberately no
 * `cause`: nothing from the envelope, the key, the plaintext or the crypto library travels with it,
 * so it is safe to log and safe to let reach the problem filter (which answers a generic 500). It
 * is an ordinary exception: catch it where a connection's tokens are read.
 */
export class VaultError extends Error {
  override readonly name = 'VaultError';

  constructor(readonly kind: VaultErrorKind) {
    super(MESSAGES[kind]);
  }
}
