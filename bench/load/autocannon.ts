import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

/**
 * Load generator used when wrk is not installed: the same request file and the same one-line
 * result as bench/wrk/requests.lua, from autocannon in this separate process (never inside a
 * server under test). Arguments: origin, connections, seconds.
 */
const [origin, connections, seconds] = process.argv.slice(2) as [string, string, string];
const run = process.env.BENCH_WRK_RUN ?? 'run';
const lines = readFileSync(process.env.BENCH_WRK_REQUESTS!, 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => {
    const [method, path, headers, body] = line.split('\t') as [string, string, string, string];
    return {
      method: method as 'GET' | 'POST',
      path,
      headers: Object.fromEntries(
        headers
          .split('\x1e')
          .filter(Boolean)
          .map((h) => [h.slice(0, h.indexOf(':')), h.slice(h.indexOf(':') + 1).trim()]),
      ),
      body: body === '' ? undefined : body,
    };
  });

let index = 0;
let counter = 0;
const result = await autocannon({
  url: origin,
  connections: Number(connections),
  duration: Number(seconds),
  timeout: 10,
  requests: [
    {
      setupRequest: (request) => {
        const line = lines[index++ % lines.length]!;
        const key = `${run}-${++counter}`;
        const uuid = randomUUID();
        const fill = (s: string) => s.replaceAll('{key}', key).replaceAll('{uuid}', uuid);
        return {
          ...request,
          method: line.method,
          path: fill(line.path),
          headers: Object.fromEntries(Object.entries(line.headers).map(([k, v]) => [k, fill(v)])),
          body: line.body === undefined ? undefined : fill(line.body),
        };
      },
    },
  ],
});

const us = (ms: number) => Math.round(ms * 1000);
const statuses = Object.entries(result.statusCodeStats ?? {}).map(([status, s]) => [Number(status), s.count ?? 0]);
const summary = {
  requests: result.requests.total,
  durationUs: Math.round(result.duration * 1e6),
  bytes: result.throughput.total,
  errors: { connect: result.errors - result.timeouts, read: 0, write: 0, status: result.non2xx, timeout: result.timeouts },
  latencyUs: {
    mean: us(result.latency.mean),
    max: us(result.latency.max),
    p50: us(result.latency.p50),
    p90: us(result.latency.p90),
    p99: us(result.latency.p99),
    p999: us(result.latency.p99_9),
  },
  statuses,
};
process.stdout.write(`BENCH_JSON ${JSON.stringify(summary)}\n`);
