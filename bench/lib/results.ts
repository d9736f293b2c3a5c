/** Shapes of bench/results/latest.json. Times in ms, rates per second. */

export interface Round {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors and timeouts, plus non-2xx/3xx answers. */
  errors: number;
  bytesPerResponse: number;
  /** CPU ms of each server process during the round. */
  cpuMs: Record<string, number>;
  dbQueries?: number;
  statuses?: Record<string, number>;
  /** Share of the whole machine's CPU busy during the round (all processes, other users' too). */
  machineBusy: number;
}

export interface TargetResult {
  id: string;
  label: string;
  primary: boolean;
  rounds: Round[];
  /** Total requests / total seconds over the rounds. */
  rps: number;
  /** Medians of the rounds' percentiles. */
  p50Ms: number;
  p99Ms: number;
  /** CPU of the process(es) serving this target (the BFF, the anchor server or nginx), per request. */
  cpuMsPerRequest: number;
  /** BFF only: db_queries_total per request. */
  dbPerRequest?: number;
  errors: number;
  bytesPerResponse: number;
  /** Mean of the rounds' machine CPU busy share. */
  machineBusy: number;
}

export interface Check {
  /** What issue 15 asks, in words. */
  target: string;
  /** What this run measured. */
  measured: string;
  ok: boolean;
}

export interface HttpScenarioResult {
  id: string;
  title: string;
  request: string;
  bff: TargetResult;
  anchors: TargetResult[];
  /** BFF ÷ primary anchor. */
  ratios?: { rps: number; p50: number; p99: number; cpu: number };
  /** Further ratios between two of the scenario's targets (adapter: Fastify ÷ Express). */
  comparisons?: Comparison[];
  checks: Check[];
  notes: string[];
}

export interface Comparison {
  /** "<target> ÷ <target>". */
  label: string;
  rps: number;
  p50: number;
  p99: number;
  cpu: number;
}

export interface SseSide {
  label: string;
  streams: number;
  events: number;
  delivered: number;
  eventsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  cpuMsPerThousandEvents: number;
  dbQueriesPerThousandEvents?: number;
}

export interface SseResult {
  bff: SseSide;
  anchor: SseSide;
  ratio: number;
  notes: string[];
}

export interface ClaimSample {
  openItems: number;
  dueItems: number;
  claimed: number;
  p50Ms: number;
  maxMs: number;
  index: string | null;
  plan: string;
}

export interface SchedulerResult {
  claim: ClaimSample[];
  config: Record<string, string>;
  items: number;
  pollsPerSecond: { one: number; two: number };
  dbPerPoll: { one: number; two: number };
  cpuMsPerPoll: { one: number; two: number };
  /** The sandbox bank's CPU per poll (each poll is two requests to it). */
  bankCpuMsPerPoll: { one: number; two: number };
  /** Share of the whole machine's CPU busy during the windows (all processes, other users' too). */
  machineBusy: { one: number; two: number };
  checks: Check[];
  notes: string[];
}

export interface VaultResult {
  rows: { op: string; opsPerSecond: number; anchor: string; anchorOpsPerSecond: number; ratio: number }[];
}

export interface StartupResult {
  rows: { label: string; readyMs: number }[];
}

export interface MemoryRow {
  label: string;
  rssMiB: number;
  rssAtReadyMiB?: number;
}

export interface BenchResults {
  startedAt: string;
  durationSeconds: number;
  commit: string;
  machine: { cpus: number; model: string; loadAverageStart: number[]; loadAverageEnd: number[]; node: string; postgres: string; database: string };
  settings: {
    seconds: number;
    rounds: number;
    connections: number;
    warmupSeconds: number;
    consents: number;
    sseStreams: number;
    loadGenerator: string;
    nginx: string;
    logLevel: string;
  };
  notes: string[];
  http: HttpScenarioResult[];
  sse?: SseResult;
  scheduler?: SchedulerResult;
  vault?: VaultResult;
  startup?: StartupResult;
  memory: MemoryRow[];
}
