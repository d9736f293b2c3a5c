import { Agent, request } from 'undici';
import type { WebhookEndpoint } from '../../config/events.config.js';
import type { WebhookMessage } from './event-message.js';
import { signWebhook } from './webhook-signature.js';

/**
 * POSTs events to one webhook endpoint, signed with its secret. HTTP only: no redirects are
 * followed (a redirect is a failed delivery), the answer's body is discarded, and every call has a
 * timeout. Each endpoint has its own connection pool, so a slow receiver never holds another's sockets.
 */
export class WebhookClient {
  private readonly agent: Agent;

  constructor(
    private readonly endpoint: WebhookEndpoint,
    private readonly timeoutMs: number,
  ) {
    this.agent = new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connections: 8 });
  }

  /**
   * The receiver's status, or 0 when there was no answer. A replay carries the same X-Event-Id
   * (receivers de-duplicate on it) and says `X-Event-Replay: true`, so a receiver that keeps ids
   * can tell an operator's resend from a retry.
   */
  async post(message: WebhookMessage, replay = false): Promise<number> {
    const body = JSON.stringify(message);
    try {
      const res = await request(this.endpoint.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tpp-bff-webhooks/1',
          'x-event-id': message.id,
          'x-event-type': message.type,
          ...(replay ? { 'x-event-replay': 'true' } : {}),
          'x-signature': signWebhook(this.endpoint.secret, body, Math.floor(Date.now() / 1000)),
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body.dump();
      return res.statusCode;
    } catch {
      return 0;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
