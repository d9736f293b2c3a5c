import type { Replica } from './replicas.js';

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
  /** Which replica answered. */
  replica: string;
}

/**
 * A frontend's HTTP client for one user across the replicas: it starts with its preferred replica
 * and moves to the next when one does not answer at all (killed, restarting). Demo user tokens are
 * signed per process in sandbox mode, so it holds one per replica and logs in again on a 401.
 */
export class ApiClient {
  private readonly tokens = new Map<string, string>();
  private next: number;

  constructor(
    readonly userId: string,
    private readonly replicas: readonly Replica[],
    preferred: number,
  ) {
    this.next = preferred;
  }

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    return this.onAnyReplica(async (replica, token) => {
      const res = await fetch(`${replica.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(20_000),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, replica: replica.name };
    });
  }

  /** GET a streaming response (the event stream); the caller reads and cancels it. */
  async stream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    return this.onAnyReplica(async (replica, token) => {
      const res = await fetch(`${replica.url}${path}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers }, signal });
      if (res.status === 401) await res.body?.cancel();
      return res;
    });
  }

  /** The user's token at a replica (for the bank login, which runs on one replica). */
  async tokenAt(replica: Replica): Promise<string> {
    let token = this.tokens.get(replica.url);
    if (!token) {
      const res = await fetch(`${replica.url}/api/v1/sandbox/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: this.userId }),
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status !== 201) throw new Error(`sandbox login at ${replica.name} answered ${res.status}`);
      token = ((await res.json()) as { token: string }).token;
      this.tokens.set(replica.url, token);
    }
    return token;
  }

  /** Tries each replica once, starting with the current one; a 401 is answered by logging in again there. */
  private async onAnyReplica<T extends { status: number }>(attempt: (replica: Replica, token: string) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let tried = 0; tried < this.replicas.length; tried++) {
      const replica = this.replicas[this.next % this.replicas.length];
      try {
        let answer = await attempt(replica, await this.tokenAt(replica));
        if (answer.status === 401) {
          // A restarted replica signs with a new key: the old token is refused.
          this.tokens.delete(replica.url);
          answer = await attempt(replica, await this.tokenAt(replica));
        }
        return answer;
      } catch (error) {
        lastError = error;
        this.next++;
      }
    }
    throw lastError instanceof Error ? lastError : new Error('no replica answered');
  }
}
