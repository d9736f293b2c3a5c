import { randomInt } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

/** Ids shaped like the Flowe guide's samples (`AAACT20143X9S9GJ6M`, `PI20213149S1068Z`). */
export function floweStyleId(prefix: string, length: number): string {
  let id = prefix;
  while (id.length < length) id += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return id;
}
