import { QueryFailedError } from 'typeorm';
import { databaseUnavailability, isDatabaseUnavailable } from '../../src/database/database-errors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('database unavailability', () => {
  it.each([
    [
      'a statement timeout (57014), wrapped by TypeORM',
      new QueryFailedError('SELECT 1', [], withCode('canceling statement due to statement timeout', '57014')),
      '57014',
    ],
    ['a server shutting down (57P01)', withCode('terminating connection due to administrator command', '57P01'), '57P01'],
    ['a server starting up (57P03)', withCode('the database system is starting up', '57P03'), '57P03'],
    ['too many connections (53300)', withCode('sorry, too many clients already', '53300'), '53300'],
    ['a connection failure (08006)', withCode('connection failure', '08006'), '08006'],
    ['our idle transaction ended by the server (25P03)', withCode('terminating connection due to idle-in-transaction timeout', '25P03'), '25P03'],
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), 'ECONNREFUSED'],
    ['a refused connection among several addresses', new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')]), 'ECONNREFUSED'],
    ['a query without an answer', new QueryFailedError('SELECT 1', [], new Error('Query read timeout')), 'query_timeout'],
    ['a connection that ended', new Error('Connection terminated unexpectedly'), 'connection_terminated'],
    ['no free connection in the pool', new Error('timeout exceeded when trying to connect'), 'pool_timeout'],
    [
      'a connect timeout',
      new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') }),
      'connection_terminated',
    ],
    ['a closed client', new Error('Client was closed and is not queryable'), 'connection_closed'],
  ])('recognises %s', (_what, error, reason) => {
    expect(databaseUnavailability(error)).toBe(reason);
  });

  it.each([
    ['a unique violation (23505)', new QueryFailedError('INSERT', [], withCode('duplicate key value violates unique constraint', '23505'))],
    ['a syntax error (42601)', new QueryFailedError('SELEC', [], withCode('syntax error', '42601'))],
    ['a deadlock (40P01), which is a conflict rather than an outage', withCode('deadlock detected', '40P01')],
    ['a programming error', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a bank failure that mentions a refused connection', Object.assign(new Error('the connection to the bank failed'), { kind: 'transient' })],
    ['nothing at all', undefined],
  ])('does not take %s for an outage', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
