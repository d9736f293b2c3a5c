import pg from 'pg';

/** node-postgres's error when `query_timeout` passes without an answer. */
const READ_TIMEOUT = 'Query read timeout';

/**
 * A pg client that closes its connection when a query gets no answer within `query_timeout`.
 *
 * node-postgres fails such a query but keeps the connection, with the unanswered statement still
 * on it. Whatever is sent next waits behind it: the ROLLBACK of the failed transaction, then the
 * next request that takes the connection from the pool. With a frozen or black-holed server every
 * one of them waits a full timeout again, so a request could be held for several. Closing the
 * connection makes those fail at once ("Client was closed"), and the pool drops it on release and
 * opens a fresh one when the server answers again.
 */
export class DeadlineClient extends pg.Client {
  // node-postgres overloads query() (callback and promise forms); only the promise form, which
  // TypeORM uses, can be watched without changing what the caller gets back.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const result: unknown = (super.query as (...a: any[]) => unknown)(...args);
    if (result instanceof Promise) {
      result.then(undefined, (error: unknown) => {
        if (error instanceof Error && error.message === READ_TIMEOUT) void this.end().catch(() => undefined);
      });
    }
    return result;
  }
}
