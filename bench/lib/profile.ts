import { readFileSync } from 'node:fs';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** CPU ms sampled inside the windows (idle excluded). */
  busyMs: number;
  functions: { name: string; where: string; selfMs: number; share: number }[];
  packages: { name: string; selfMs: number; share: number }[];
  /** Time with the package anywhere on the stack (a package calling into another counts for both). */
  inclusivePackages: { name: string; ms: number; share: number }[];
  /** The project's own functions by time with them on the stack. */
  inclusiveOwn: { name: string; where: string; ms: number; share: number }[];
}

/**
 * Self time per function and per package from a `node --cpu-prof` profile, counting only samples
 * taken inside `windows` (ms since the process started: when load was on), idle time left out.
 */
export function summariseProfile(file: string, windows: [number, number][], top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const sinceStartMs = (t - profile.startTime) / 1000;
    if (!windows.some(([from, to]) => sinceStartMs >= from && sinceStartMs <= to)) continue;
    const weight = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + weight);
  }
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byPackage = new Map<string, number>();
  const inclusivePackages = new Map<string, number>();
  const inclusiveOwn = new Map<string, { name: string; where: string; us: number }>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    busy += us;
    const seenPackages = new Set<string>();
    const seenOwn = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = nodes.get(at)!.callFrame;
      if (!f.url) continue;
      seenPackages.add(packageOf(f.url, f.functionName));
      if (f.url.includes('/dist/src/')) seenOwn.add(`${f.functionName || '(anonymous)'}@${location(f.url, f.lineNumber)}`);
    }
    // Node's own frames sit under nearly every stack (the event loop, streams): no information there.
    seenPackages.delete('node: built-ins');
    for (const pkg of seenPackages) inclusivePackages.set(pkg, (inclusivePackages.get(pkg) ?? 0) + us);
    for (const key of seenOwn) {
      const [name, where] = key.split('@') as [string, string];
      const entry = inclusiveOwn.get(key) ?? { name, where, us: 0 };
      entry.us += us;
      inclusiveOwn.set(key, entry);
    }
    const where = location(frame.url, frame.lineNumber);
    const name = frame.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const entry = byFunction.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const pkg = packageOf(frame.url, name);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const share = (us: number) => (busy > 0 ? us / busy : 0);
  return {
    busyMs: busy / 1000,
    functions: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000, share: share(f.us) })),
    packages: [...byPackage.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: share(us) })),
    inclusivePackages: [...inclusivePackages.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([name, us]) => ({ name, ms: us / 1000, share: share(us) })),
    inclusiveOwn: [...inclusiveOwn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: share(f.us) })),
  };
}

function location(url: string, line: number): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  const short = modules >= 0 ? path.slice(modules + 'node_modules/'.length) : path.includes('/dist/') ? path.slice(path.indexOf('/dist/') + 1) : path;
  return `${short}:${line + 1}`;
}

function packageOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return 'node: built-ins';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = path.slice(modules + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (path.includes('/dist/src/')) return 'tpp-bff (dist/src)';
  return path;
}

export function profileMarkdown(summary: ProfileSummary, scenarios: string[]): string {
  const pct = (s: number) => `${(s * 100).toFixed(1)}%`;
  const lines = [
    `# CPU profile of the BFF: ${scenarios.join(', ')}`,
    '',
    `\`node --cpu-prof\` on the BFF process; only samples taken while load was on the BFF are counted (${summary.busyMs.toFixed(0)} ms of CPU, idle excluded).`,
    '',
    '## Self time by function',
    '',
    '| function | where | self ms | share |',
    '|---|---|---:|---:|',
    ...summary.functions.map((f) => `| \`${f.name}\` | ${f.where} | ${f.selfMs.toFixed(0)} | ${pct(f.share)} |`),
    '',
    '## Self time by package',
    '',
    '| package | self ms | share |',
    '|---|---:|---:|',
    ...summary.packages.map((p) => `| ${p.name} | ${p.selfMs.toFixed(0)} | ${pct(p.share)} |`),
    '',
    '## Time with the package on the stack',
    '',
    '| package | ms | share |',
    '|---|---:|---:|',
    ...summary.inclusivePackages.map((p) => `| ${p.name} | ${p.ms.toFixed(0)} | ${pct(p.share)} |`),
    '',
    "## The project's functions by time on the stack",
    '',
    '| function | where | ms | share |',
    '|---|---|---:|---:|',
    ...summary.inclusiveOwn.map((f) => `| \`${f.name}\` | ${f.where} | ${f.ms.toFixed(0)} | ${pct(f.share)} |`),
    '',
  ];
  return lines.join('\n');
}
