import { AppError } from '../../common/errors/app-error.js';
import type { Service } from '../../config/banks.config.js';
import type { Connection } from './connection.entity.js';

/** The bank no longer accepts the connection's grant: the user must connect the bank again (409 `reauth_required`). */
export function reauthRequired(aspspId: string, detail = 'the bank requires the user to log in again'): AppError {
  return new AppError('reauth_required', `${aspspId}: ${detail}`, { aspspId, connectionStatus: 'reauth_required', reauthRequired: true });
}

/** A connection that cannot make bank calls: `reauth_required`, or `connection_not_active` naming its status. */
export function connectionNotUsable(connection: Pick<Connection, 'status' | 'aspspId'>): AppError {
  if (connection.status === 'reauth_required') return reauthRequired(connection.aspspId);
  return new AppError('connection_not_active', `The connection is ${connection.status}`, {
    aspspId: connection.aspspId,
    connectionStatus: connection.status,
    reauthRequired: false,
  });
}

/** The connection was made without `service` (409 `service_not_granted`): the user connects the bank again with it. */
export function serviceNotGranted(connection: Pick<Connection, 'services' | 'aspspId'>, service: Service): AppError {
  return new AppError('service_not_granted', `The connection was made without the ${service} service; connect the bank again with services ["${service}"]`, {
    aspspId: connection.aspspId,
    services: connection.services,
    requiredService: service,
  });
}

/** The connection's bank accounts are another user's connection: it was stopped (409 `bank_identity_conflict`). */
export function bankIdentityConflict(aspspId: string): AppError {
  return new AppError(
    'bank_identity_conflict',
    `${aspspId}: these bank accounts are already connected by another user of this app; the connection was stopped`,
    {
      aspspId,
      connectionStatus: 'failed',
    },
  );
}

/**
 * A connection a new bank login cannot help (409 `connection_not_reauthorizable`): pending or failed
 * (connect the bank anew), revoked (deleted by the user), or active and not near its `reauthBy`.
 */
export function notReauthorizable(connection: Pick<Connection, 'status' | 'aspspId'>): AppError {
  const why = connection.status === 'active' ? 'is active and its bank login does not end soon' : `is ${connection.status}; connect the bank anew instead`;
  return new AppError('connection_not_reauthorizable', `The connection ${why}`, {
    aspspId: connection.aspspId,
    connectionStatus: connection.status,
    reauthRequired: false,
  });
}
