import { Agent, request } from 'node:http';

/**
 * Holds many SSE streams open (as many browsers would), in its own process, and counts the events
 * they receive. Driven over IPC by the benchmark:
 *   {cmd: 'open', group, url, tokens[]}   → {cmd: 'opened', group, opened, failed, firstError?}
 *   {cmd: 'expect', group, events, timeoutMs} → {cmd: 'delivered', group, delivered, firstAt, lastAt, latencies: {p50, p99}}
 * An event's latency is its arrival time minus the `sentAt` (ms since the epoch) in its data.
 */
interface Group {
  streams: number;
  delivered: number;
  lastAt: number;
  firstAt: number;
  latencies: number[];
  waiting?: { events: number; done: () => void };
}

const groups = new Map<string, Group>();
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

function open(groupName: string, url: string, tokens: (string | null)[]): Promise<{ opened: number; failed: number; firstError?: string }> {
  const group: Group = { streams: 0, delivered: 0, lastAt: 0, firstAt: 0, latencies: [] };
  groups.set(groupName, group);
  let failed = 0;
  let firstError: string | undefined;
  return new Promise((resolve) => {
    let pending = tokens.length;
    const settle = () => --pending === 0 && resolve({ opened: group.streams, failed, firstError });
    for (const token of tokens) {
      const req = request(
        url,
        { agent, headers: token ? { authorization: `Bearer ${token}`, accept: 'text/event-stream' } : { accept: 'text/event-stream' } },
        (res) => {
          if (res.statusCode !== 200) {
            failed++;
            firstError ??= `HTTP ${res.statusCode}`;
            res.resume();
            return settle();
          }
          group.streams++;
          res.setEncoding('utf8');
          let buffer = '';
          res.on('data', (chunk: string) => {
            buffer += chunk;
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const frame = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = frame.split('\n').find((line) => line.startsWith('data: '));
              if (data) received(group, data.slice(6));
            }
          });
          res.on('error', () => undefined);
          settle();
        },
      );
      req.on('error', (error) => {
        failed++;
        firstError ??= error.message;
        settle();
      });
      req.end();
    }
  });
}

function received(group: Group, data: string): void {
  const now = Date.now();
  let sentAt = Number.NaN;
  try {
    sentAt = Number((JSON.parse(data) as { sentAt?: number }).sentAt);
  } catch {
    // Not one of ours: counted all the same.
  }
  group.delivered++;
  if (group.firstAt === 0) group.firstAt = now;
  group.lastAt = now;
  if (Number.isFinite(sentAt)) group.latencies.push(now - sentAt);
  if (group.waiting && group.delivered >= group.waiting.events) group.waiting.done();
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

process.on('message', (message: { cmd: string; group: string; url?: string; tokens?: (string | null)[]; events?: number; timeoutMs?: number }) => {
  if (message.cmd === 'open') {
    void open(message.group, message.url!, message.tokens!).then((result) => process.send!({ cmd: 'opened', group: message.group, ...result }));
  } else if (message.cmd === 'expect') {
    const group = groups.get(message.group)!;
    Object.assign(group, { delivered: 0, firstAt: 0, lastAt: 0, latencies: [] });
    const done = () => {
      clearTimeout(timer);
      group.waiting = undefined;
      const sorted = group.latencies.sort((a, b) => a - b);
      process.send!({
        cmd: 'delivered',
        group: message.group,
        delivered: group.delivered,
        firstAt: group.firstAt,
        lastAt: group.lastAt,
        latencies: { p50: percentile(sorted, 50), p99: percentile(sorted, 99) },
      });
    };
    group.waiting = { events: message.events!, done };
    const timer = setTimeout(done, message.timeoutMs ?? 30_000);
    process.send!({ cmd: 'expecting', group: message.group });
  }
});
process.on('disconnect', () => process.exit(0));
