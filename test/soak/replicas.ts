import { readFileSync } from 'node:fs';
import { WebSocket } from 'undici';
import { freePort } from '../support/bff.js';
import { isUp, runBuilt, stopProcess, waitFor, type RunningProcess } from '../support/process.js';

const MAIN = 'dist/src/main.js';

/** Lines a Node process prints for a promise rejection nobody handled (it then exits, by default). */
const UNHANDLED = /unhandled ?(promise)? ?rejection|UnhandledPromiseRejection/i;

/**
 * One BFF replica as its own process (the build, as in production), on a fixed port so clients
 * find it again after a restart.
 */
export class Replica {
  readonly url: string;
  private run: RunningProcess | undefined;
  private readonly outputs: string[] = [];
  restarts = 0;
  /** Exits nobody asked for (a crash, e.g. on an unhandled rejection). */
  readonly unexpectedExits: (number | null)[] = [];

  private constructor(
    readonly name: string,
    private readonly port: number,
    /** Where the inspector listens once asked to (SIGUSR1), on loopback: only to collect garbage. */
    private readonly inspectorPort: number,
    private readonly env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(name: string, env: Record<string, string>): Promise<Replica> {
    const replica = new Replica(name, await freePort(), await freePort(), env);
    await replica.launch();
    return replica;
  }

  /**
   * A full garbage collection in the replica (the inspector's HeapProfiler.collectGarbage), so its
   * memory can be compared without the garbage a busy minute leaves behind.
   */
  async collectGarbage(): Promise<void> {
    process.kill(this.pid!, 'SIGUSR1');
    const list = `http://127.0.0.1:${this.inspectorPort}/json/list`;
    await waitFor(async () => (await fetch(list).catch(() => undefined))?.ok === true, 10_000, `${this.name}'s inspector`);
    const [{ webSocketDebuggerUrl }] = (await (await fetch(list)).json()) as { webSocketDebuggerUrl: string }[];
    const socket = new WebSocket(webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      socket.onerror = () => reject(new Error(`${this.name}: the inspector connection failed`));
      socket.onopen = () => socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
      socket.onmessage = (message) => {
        if ((JSON.parse(String(message.data)) as { id?: number }).id === 1) resolve();
      };
    });
    socket.close();
  }

  get pid(): number | undefined {
    return this.run?.child.pid;
  }

  get alive(): boolean {
    return this.run !== undefined && this.run.child.exitCode === null && this.run.child.signalCode === null;
  }

  /** Resident memory of the process now (bytes), from /proc. */
  rss(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) * 1024;
  }

  /** Everything every run of this replica printed. */
  output(): string {
    return [...this.outputs, this.run?.output() ?? ''].join('\n');
  }

  unhandledRejections(): string[] {
    return this.output()
      .split('\n')
      .filter((line) => UNHANDLED.test(line));
  }

  /** SIGKILL, as a crashed host or an OOM kill would: no drain, no goodbye. */
  async kill(): Promise<void> {
    const run = this.run!;
    this.run = undefined;
    this.outputs.push(run.output());
    run.child.kill('SIGKILL');
    await run.exited;
  }

  async restart(): Promise<void> {
    this.restarts++;
    await this.launch();
  }

  async stop(): Promise<void> {
    if (!this.run) return;
    const run = this.run;
    this.run = undefined;
    this.outputs.push(run.output());
    run.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([run.exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), 10_000)))]);
    clearTimeout(timer);
    if (exited === 'timeout') await stopProcess(run);
  }

  private async launch(): Promise<void> {
    const run = runBuilt(MAIN, {
      ...this.env,
      PORT: String(this.port),
      HOST: '127.0.0.1',
      PUBLIC_URL: this.url,
      NODE_OPTIONS: `--inspect-port=127.0.0.1:${this.inspectorPort}`,
    });
    this.run = run;
    void run.exited.then((code) => {
      if (this.run === run) this.unexpectedExits.push(code);
    });
    await waitFor(() => isUp(`${this.url}/health/ready`), 60_000, `${this.name} to be ready`);
  }
}
