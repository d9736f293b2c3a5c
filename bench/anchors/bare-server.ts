import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * The runtime's own limit, as an anchor: a bare `node:http` server answering with the very body a
 * BFF scenario returned (registered with `PUT /_bench/body?path=…`), and an SSE stream that
 * writes the same frames as the BFF (`GET /_bench/events`, filled by `POST /_bench/emit`).
 * No framework, no middleware, no database. Listens on 127.0.0.1:$PORT.
 */
const bodies = new Map<string, { body: Buffer; type: string }>();
const streams = new Set<ServerResponse>();
let eventId = 0;

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://anchor');
  if (req.method === 'PUT' && url.pathname === '/_bench/body') return void register(req, res, url.searchParams.get('path') ?? '/');
  if (req.method === 'GET' && url.pathname === '/_bench/events') return openStream(res);
  if (req.method === 'POST' && url.pathname === '/_bench/emit') return void emit(req, res, Number(url.searchParams.get('perStream') ?? 1));
  if (url.pathname === '/_bench/ready') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  const found = bodies.get(url.pathname);
  if (!found) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not registered');
  res.writeHead(200, { 'content-type': found.type, 'content-length': found.body.length });
  res.end(found.body);
});

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function register(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  bodies.set(path, { body: await readBody(req), type: req.headers['content-type'] ?? 'application/json' });
  res.writeHead(204).end();
}

function openStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
  res.write('retry: 2000\n\n');
  streams.add(res);
  res.once('close', () => streams.delete(res));
}

/** Writes `perStream` frames to every open stream; the body is the event's data (JSON), stamped with sentAt. */
async function emit(req: IncomingMessage, res: ServerResponse, perStream: number): Promise<void> {
  const data = JSON.parse((await readBody(req)).toString() || '{}') as Record<string, unknown>;
  const sentAt = Date.now();
  let written = 0;
  for (let n = 0; n < perStream; n++) {
    for (const stream of streams) {
      const frame = `id: ${++eventId}\nevent: payment.status\ndata: ${JSON.stringify({ ...data, sentAt, occurredAt: new Date(sentAt).toISOString() })}\n\n`;
      stream.write(frame);
      written++;
    }
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ written }));
}

server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const stream of streams) stream.end();
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
