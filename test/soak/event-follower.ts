import type { ApiClient } from './api-client.js';

/**
 * A user's live event stream as a well-behaved client keeps it: fetch + stream reader, every `id:`
 * remembered (with or without data), and on any end or error a reconnect, to whichever replica
 * answers, with Last-Event-ID. Events are de-duplicated by id; duplicates are only counted.
 */
export class EventFollower {
  /** The stream's first position: every event of this user after it must arrive. */
  startId: bigint | undefined;
  readonly received = new Set<string>();
  duplicates = 0;
  reconnects = 0;
  /** Frames that broke the contract (an event without its id in the payload). */
  readonly errors: string[] = [];
  private lastEventId: string | undefined;
  private stopped = false;
  private abort: AbortController | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: ApiClient,
    readonly userId: string,
  ) {}

  start(): void {
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.running;
  }

  /** Each stream opened: when, where, from which id, and how it ended (to explain a failure). */
  readonly connections: { at: string; replica?: string; resumedFrom?: string; firstId?: string; lastId?: string; ended?: string }[] = [];

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.connections.length > 0) this.reconnects++;
      const connection: (typeof this.connections)[number] = { at: new Date().toISOString(), resumedFrom: this.lastEventId };
      this.connections.push(connection);
      try {
        await this.follow(connection);
        connection.ended = 'end of stream';
      } catch (error) {
        // the replica went away, the database was down, or we stopped: reconnect below
        connection.ended = error instanceof Error ? error.message : String(error);
      }
      if (this.stopped) break;
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  private async follow(connection: (typeof this.connections)[number]): Promise<void> {
    this.abort = new AbortController();
    const res = await this.client.stream('/api/v1/events', this.lastEventId ? { 'last-event-id': this.lastEventId } : {}, this.abort.signal);
    connection.replica = res.url;
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new Error(`events answered ${res.status}`);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const id = this.frame(buffer.slice(0, end));
        if (id !== undefined) {
          connection.firstId ??= id;
          connection.lastId = id;
        }
        buffer = buffer.slice(end + 2);
      }
    }
  }

  /** Takes one frame; returns its id, if it had one. */
  private frame(block: string): string | undefined {
    let id: string | undefined;
    let data: string | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data = line.slice(6);
    }
    if (id === undefined) return undefined;
    if (data === undefined) {
      this.startId ??= BigInt(id);
    } else {
      let payload: { eventId?: string } = {};
      try {
        payload = JSON.parse(data) as { eventId?: string };
      } catch {
        this.errors.push(`${this.userId}: event ${id} has no JSON data`);
      }
      if (payload.eventId !== id) this.errors.push(`${this.userId}: event ${id} carries eventId ${payload.eventId}`);
      if (this.received.has(id)) this.duplicates++;
      else this.received.add(id);
    }
    // Only once the frame is taken: a client resumes after what it really has.
    this.lastEventId = id;
    return id;
  }
}
