import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { OutboxStore, type EventType } from '../../src/modules/events/outbox.store.js';
import type { TestBff } from '../support/bff.js';

/** Records an outbox event the way the AIS and PIS services do: in a transaction of the app. */
export async function emit(bff: TestBff, userId: string, type: EventType, data: Record<string, unknown>): Promise<void> {
  await bff.app.get(DataSource).transaction((manager) => bff.app.get(OutboxStore).record(manager, { userId, type, data }));
}

export function eventsUrl(bff: TestBff): string {
  return `${bff.url}/api/v1/events`;
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  answered: number;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** The bodies it accepted (2xx), parsed. */
  accepted(): { id: string; type: string; userId: string; externalReference?: string; data: Record<string, unknown> }[];
  /** What it answers from now on (204 by default; 0: it never answers, like a hung server). */
  answer(status: number): void;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 that records every POST and answers with the status it is told to. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let status = 204;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body, answered: status, at: Date.now() });
      if (status !== 0) res.writeHead(status).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    accepted: () => received.filter((r) => r.answered >= 200 && r.answered < 300).map((r) => JSON.parse(r.body)),
    answer: (next) => (status = next),
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
