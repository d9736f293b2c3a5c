import { Injectable, Logger } from '@nestjs/common';

export type BeforeRevoke = (userId: string, connectionId: string) => Promise<void>;

/**
 * Lets modules that build on a connection (AIS consents today) act before its tokens are
 * forgotten, without the connections module depending on them. Hooks run while the bank tokens
 * still exist; a failing hook is logged and never stops the revocation.
 */
@Injectable()
export class ConnectionLifecycle {
  private readonly logger = new Logger(ConnectionLifecycle.name);
  private readonly beforeRevokeHooks: { name: string; hook: BeforeRevoke }[] = [];

  onBeforeRevoke(name: string, hook: BeforeRevoke): void {
    this.beforeRevokeHooks.push({ name, hook });
  }

  async beforeRevoke(userId: string, connectionId: string): Promise<void> {
    for (const { name, hook } of this.beforeRevokeHooks) {
      try {
        await hook(userId, connectionId);
      } catch (error) {
        this.logger.warn(
          { connectionId, hook: name, error: error instanceof Error ? error.message : 'unknown' },
          'revocation hook failed; tokens are forgotten anyway',
        );
      }
    }
  }
}
