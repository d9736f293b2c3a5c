export interface ReceivedEvent {
  id?: string;
  event?: string;
  data: string;
  receivedAt: number;
}

/**
 * A server-sent events client the way the demo page reads the stream: fetch with the
 * Authorization header and a stream reader (EventSource cannot send headers), parsing frames as
 * the WHATWG spec says (fields per line, a blank line ends an event, `:` lines are comments).
 */
export class SseClient {
  readonly events: ReceivedEvent[] = [];
  readonly comments: string[] = [];
  retryMs?: number;
  /** The last `id:` the stream sent, with or without data (what EventSource keeps as lastEventId). */
  lastEventId?: string;
  ended = false;
  private reading: Promise<void> = Promise.resolve();

  private constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {}

  /** Opens the stream; resolves once the answer's headers are in (any status: check `response`). */
  static async open(url: string, token: string | undefined, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      signal: abort.signal,
    });
    const client = new SseClient(response, abort);
    if (response.ok && response.body) client.reading = client.read(response.body);
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // aborted by close()
    } finally {
      this.ended = true;
    }
  }

  private parse(block: string): void {
    const event: ReceivedEvent = { data: '', receivedAt: Date.now() };
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') event.id = this.lastEventId = value;
      else if (field === 'event') event.event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry') this.retryMs = Number(value);
    }
    if (data.length === 0) return;
    event.data = data.join('\n');
    this.events.push(event);
  }

  json(event: ReceivedEvent): Record<string, unknown> {
    return JSON.parse(event.data) as Record<string, unknown>;
  }

  async waitFor(what: string, predicate: (event: ReceivedEvent) => boolean, timeoutMs = 5000): Promise<ReceivedEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      if (Date.now() > deadline || this.ended)
        throw new Error(`SSE: no ${what} within ${timeoutMs} ms (got ${JSON.stringify(this.events.map((e) => [e.id, e.event, e.data]))})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.reading;
  }
}
