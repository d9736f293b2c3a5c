import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/**
 * Every process the benchmark starts (BFF, sandbox, anchors, load generators) is registered here
 * and stopped on the way out: normal end, a failure, Ctrl-C or SIGTERM. Each child gets its own
 * process group, so a signal reaches nginx's workers too, and a terminal's Ctrl-C reaches only
 * this runner, which then stops everything in order (load first, servers after, database last).
 */
export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly startedAt: number;
  readonly exited: Promise<number | null>;
  /** Where its stdout and stderr go (read it when something fails). */
  readonly logFile?: string;
}

const running = new Set<Child>();
const cleanups: { name: string; run: () => Promise<void> | void }[] = [];
let cleaning: Promise<void> | undefined;

export interface StartOptions {
  env: Record<string, string>;
  cwd?: string;
  /** File for stdout and stderr; omitted = piped (read through `proc.stdout`). */
  logFile?: string;
  ipc?: boolean;
}

export function startChild(name: string, command: string, args: string[], options: StartOptions): Child {
  const out = options.logFile === undefined ? 'pipe' : openSync(options.logFile, 'a');
  const stdio: StdioOptions = ['ignore', out, out];
  if (options.ipc) stdio.push('ipc');
  const proc = spawn(command, args, { cwd: options.cwd, env: options.env, stdio, detached: true });
  if (typeof out === 'number') closeSync(out);
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const exited = new Promise<number | null>((done) => {
    proc.once('exit', (code, signal) => done(code ?? (signal ? 128 : null)));
    proc.once('error', () => done(-1));
  });
  const child: Child = { name, proc, pid: proc.pid, startedAt: performance.now(), exited, logFile: options.logFile };
  running.add(child);
  void exited.then(() => running.delete(child));
  return child;
}

/** SIGTERM to the child's process group, then SIGKILL if it has not exited within `graceMs`. */
export async function stopChild(child: Child, graceMs = 10_000): Promise<void> {
  if (!running.has(child)) return;
  signalGroup(child.pid, 'SIGTERM');
  const timer = new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), graceMs).unref());
  if ((await Promise.race([child.exited, timer])) === 'timeout') {
    signalGroup(child.pid, 'SIGKILL');
    await child.exited;
  }
  running.delete(child);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Runs at clean-up after every child has stopped, last registered first (e.g. drop the database, stop Postgres). */
export function onCleanup(name: string, run: () => Promise<void> | void): void {
  cleanups.push({ name, run });
}

export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    // Newest first: load generators and clients before the servers they talk to.
    for (const child of [...running].reverse()) await stopChild(child).catch(() => undefined);
    for (const { name, run } of cleanups.reverse()) {
      try {
        await run();
      } catch (error) {
        process.stderr.write(`clean-up "${name}" failed: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  })();
  return cleaning;
}

/** Ctrl-C, SIGTERM and crashes stop every child and undo every temp resource before exiting. */
export function installExitHandlers(): void {
  const bail = (code: number, why: string) => {
    process.stderr.write(`\n${why}: stopping every process the benchmark started…\n`);
    void cleanupAll().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => bail(130, 'interrupted'));
  process.once('SIGTERM', () => bail(143, 'terminated'));
  process.on('uncaughtException', (error) => bail(1, `failed: ${error.stack ?? error.message}`));
  process.on('unhandledRejection', (error) => bail(1, `failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of one process, in ms (from /proc/<pid>/stat; 0 when it is gone). */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** CPU ms used so far by every live process in the child's group (nginx: master and workers). */
export function groupCpuMs(child: Child): number {
  let total = 0;
  for (const pid of groupPids(child.pid)) total += processCpuMs(pid);
  return total;
}

function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) pids.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

/** Resident memory of the child's group in bytes (VmRSS; 0 when gone). */
export function groupRssBytes(child: Child): number {
  let total = 0;
  for (const pid of groupPids(child.pid)) {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += match ? Number(match[1]) * 1024 : 0;
    } catch {
      // Exited meanwhile.
    }
  }
  return total;
}

export function isRunning(child: Child): boolean {
  return running.has(child);
}

/** The last lines of a child's log, for an error message. */
export function logTail(child: Child, lines = 30): string {
  if (!child.logFile) return '';
  try {
    return readFileSync(child.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Jiffies the whole machine has spent busy and in total (first line of /proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number) as number[];
    const busy = user! + nice! + system! + irq! + softirq! + (steal ?? 0);
    return { busy, total: busy + idle! + iowait! };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** Share of the machine's CPU that was busy between two readings (every process, not only ours). */
export function busyShare(from: { busy: number; total: number }, to: { busy: number; total: number }): number {
  const total = to.total - from.total;
  return total > 0 ? (to.busy - from.busy) / total : Number.NaN;
}
