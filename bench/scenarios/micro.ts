import { groupRssBytes, startChild, stopChild } from '../lib/children.js';
import type { Context } from '../lib/context.js';
import { paths } from '../lib/paths.js';
import type { MemoryRow, StartupResult, VaultResult } from '../lib/results.js';
import { startBff } from '../lib/servers.js';

/** Vault seal/open against raw node:crypto, in a process of its own. */
export async function runVault(ctx: Context): Promise<VaultResult> {
  const child = startChild('vault micro-benchmark', process.execPath, [paths.vaultMicro, String(ctx.options.rounds)], {
    env: { PATH: process.env.PATH ?? '' },
  });
  let out = '';
  child.proc.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.proc.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await child.exited;
  const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (code !== 0 || !line) throw new Error(`vault micro-benchmark failed (exit ${code}):\n${out}`);
  const r = JSON.parse(line.slice('BENCH_JSON '.length)) as Record<string, number>;
  return {
    rows: [
      {
        op: 'vault seal (600-byte token)',
        opsPerSecond: r['vault seal']!,
        anchor: 'raw node:crypto AES-256-GCM encrypt',
        anchorOpsPerSecond: r['raw seal']!,
        ratio: r['vault seal']! / r['raw seal']!,
      },
      {
        op: 'vault open',
        opsPerSecond: r['vault open']!,
        anchor: 'raw node:crypto AES-256-GCM decrypt',
        anchorOpsPerSecond: r['raw open']!,
        ratio: r['vault open']! / r['raw open']!,
      },
    ],
  };
}

/** Start-up to ready: the first start (fresh database: migrations) and restarts, next to the anchors'. */
export async function runStartup(ctx: Context): Promise<StartupResult> {
  const rows: StartupResult['rows'] = [{ label: 'BFF, first start (migrations on an empty database)', readyMs: ctx.bff.readyMs }];
  for (let i = 1; i <= 2; i++) {
    const bff = await startBff(ctx.ws, { name: `restart-${i}` });
    rows.push({ label: `BFF, restart ${i} (schema up to date)`, readyMs: bff.readyMs });
    await stopChild(bff.child);
  }
  rows.push({ label: 'sandbox ASPSP (Nest, in memory)', readyMs: ctx.sandbox.readyMs }, { label: 'bare node:http', readyMs: ctx.bare.readyMs });
  return { rows };
}

export function memory(ctx: Context, atReady: Map<string, number>): MemoryRow[] {
  const mib = (bytes: number) => bytes / 2 ** 20;
  return ctx
    .servers()
    .map(({ label, child }) => ({ label, rssMiB: mib(groupRssBytes(child)), ...(atReady.has(label) ? { rssAtReadyMiB: mib(atReady.get(label)!) } : {}) }));
}
