import { Agent, request } from 'undici';
import type { WebhookConfig } from '../../config/events.config.js';
import type { WebhookMessage } from './event-message.js';
import { signWebhook } from './webhook-signature.js';

/**
 * POSTs one event to WEBHOOK_URL, signed. HTTP only: no redirects are followed (a redirect is a
 * failed delivery), the answer's body is discarded, and every call has a timeout.
 */
export class WebhookClient {
  private readonly agent: Agent;

  constructor(private readonly config: WebhookConfig) {
    this.agent = new Agent({ connect: { timeout: config.timeoutMs }, headersTimeout: config.timeoutMs, bodyTimeout: config.timeoutMs, connections: 8 });
  }

  /** The receiver's status, or 0 when there was no answer. */
  async post(message: WebhookMessage): Promise<number> {
    const body = JSON.stringify(message);
    try {
      const res = await request(this.config.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tpp-bff-webhooks/1',
          'x-event-id': message.id,
          'x-event-type': message.type,
          'x-signature': signWebhook(this.config.secret, body, Math.floor(Date.now() / 1000)),
        },
        body,
        signal: AbortSignal.timeout(this.config.timeoutMs),
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
