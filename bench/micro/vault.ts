import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { TokenCipher } from '../../src/modules/token-vault/token-cipher.js';

/**
 * The token vault against raw node:crypto doing the same AES-256-GCM work (random 96-bit IV, the
 * same associated data, a 16-byte tag), in its own process. Rounds alternate so both see the same
 * machine. Prints one line: BENCH_JSON {...}.
 */
const ROUNDS = Number(process.argv[2] ?? 3);
const ROUND_MS = 400;
const key = randomBytes(32);
const cipher = new TokenCipher([{ id: 'bench', secret: key }]);
const binding = { connectionId: randomUUID(), userId: 'bench-user@example.com', aspspId: 'flowe', field: 'access_token' as const };
// A bank access token of the size banks hand out (JWTs of 600–1,200 characters).
const token = randomBytes(600).toString('base64url');
const aad = Buffer.from(
  `v2.bench|tpp-bff/v2/users/${encodeURIComponent(binding.userId)}/banks/${binding.aspspId}/connections/${binding.connectionId}/access_token`,
  'utf8',
);
const sealed = cipher.encrypt(token, binding);
const raw = rawSeal();

function rawSeal() {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  c.setAAD(aad);
  const ciphertext = Buffer.concat([c.update(token, 'utf8'), c.final()]);
  return { iv, ciphertext, tag: c.getAuthTag() };
}

function rawOpen() {
  const d = createDecipheriv('aes-256-gcm', key, raw.iv, { authTagLength: 16 });
  d.setAuthTag(raw.tag);
  d.setAAD(aad);
  const plain = d.update(raw.ciphertext);
  d.final();
  return plain.toString('utf8');
}

function rate(fn: () => unknown): number {
  const end = performance.now() + ROUND_MS;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++) fn();
    n += 64;
  }
  return n / (ROUND_MS / 1000);
}

const ops = {
  'raw seal': () => rawSeal(),
  'vault seal': () => cipher.encrypt(token, binding),
  'raw open': () => rawOpen(),
  'vault open': () => cipher.decrypt(sealed, binding),
};
const totals: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((k) => [k, []]));
for (const fn of Object.values(ops)) rate(fn); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  const names = round % 2 === 0 ? Object.keys(ops) : Object.keys(ops).reverse();
  for (const name of names) totals[name]!.push(rate(ops[name as keyof typeof ops]));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
process.stdout.write(`BENCH_JSON ${JSON.stringify(Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, median(v)])))}\n`);
