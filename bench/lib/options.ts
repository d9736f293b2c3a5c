/** Scenario ids, in the order they run (`--only` takes a comma-separated subset). */
export const SCENARIOS = ['health', 'accounts', 'adapter', 'transactions', 'refresh', 'payments', 'sse', 'scheduler', 'vault', 'startup'] as const;
export type ScenarioId = (typeof SCENARIOS)[number];

export interface Options {
  /** Seconds per measured round of each HTTP target (BENCH_SECONDS). */
  seconds: number;
  /** Interleaved rounds per target (BENCH_ROUNDS). */
  rounds: number;
  /** Unrecorded warm-up per target before its first round. */
  warmupSeconds: number;
  /** Concurrent connections of the load generator (BENCH_CONNECTIONS). */
  connections: number;
  /** Distinct users and consents the attended reads are spread over (BENCH_CONSENTS). */
  consents: number;
  /** Open SSE streams (BENCH_SSE_STREAMS). */
  sseStreams: number;
  /** Open poll items at which the claim is timed. */
  claimSizes: number[];
  only?: Set<ScenarioId>;
  /** --cpu-prof: profile the main BFF with node --cpu-prof and summarise its busy windows. */
  cpuProfile: boolean;
  /** False for a partial or shortened run: README's table is then left alone. */
  complete: boolean;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}`);
    return value;
  };
  let only: Set<ScenarioId> | undefined;
  let cpuProfile = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--cpu-prof') cpuProfile = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      const ids = (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = ids.filter((id) => !(SCENARIOS as readonly string[]).includes(id));
      if (ids.length === 0 || unknown.length > 0) throw new Error(`--only takes a comma-separated list of: ${SCENARIOS.join(', ')}`);
      only = new Set(ids as ScenarioId[]);
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(HELP);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  const seconds = int('BENCH_SECONDS', 3, 1, 600);
  const rounds = int('BENCH_ROUNDS', 3, 1, 20);
  const connections = int('BENCH_CONNECTIONS', 32, 1, 1024);
  const consents = int('BENCH_CONSENTS', 128, 1, 2000);
  const sseStreams = int('BENCH_SSE_STREAMS', 1000, 1, 5000);
  return {
    seconds,
    rounds,
    warmupSeconds: 1,
    connections,
    consents,
    sseStreams,
    claimSizes: [1_000, 10_000, 100_000],
    only,
    cpuProfile,
    complete: only === undefined && !cpuProfile && seconds >= 3 && rounds >= 3 && connections === 32 && sseStreams === 1000,
  };
}

export function selected(options: Options, id: ScenarioId): boolean {
  return options.only === undefined || options.only.has(id);
}

const HELP = `npm run bench [-- --only <ids>] [-- --cpu-prof]

Measures the BFF against anchors in the same run, each server in its own process, load from wrk.
Scenarios: ${SCENARIOS.join(', ')}

  --only a,b      run these scenarios only (written to .data/bench/partial.*; README is left alone)
  --cpu-prof      run the BFF under node --cpu-prof and summarise the busiest functions
                  during the selected scenarios (e.g. --only accounts --cpu-prof)

Environment: DATABASE_URL (else an embedded PostgreSQL in .data/bench-postgres),
BENCH_SECONDS (per round, default 3), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32),
BENCH_CONSENTS (128), BENCH_SSE_STREAMS (1000), BENCH_LOG_LEVEL (BFF log level, warn),
BENCH_LOAD_GENERATOR=autocannon (use autocannon even where wrk is installed).
`;
