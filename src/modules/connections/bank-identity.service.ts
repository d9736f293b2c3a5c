import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { electronicFormatIBAN } from 'ibantools';
import { AppError } from '../../common/errors/app-error.js';
import { SecurityEvents } from '../../common/metrics/security-events.js';
import { appConfig } from '../../config/app.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { BankIdentityStore, type IdentityClaim } from './bank-identity.store.js';
import type { Connection } from './connection.entity.js';
import { bankIdentityConflict } from './connection-errors.js';
import { ConnectionsStore } from './connections.store.js';

/**
 * The bank's customer behind a connection, as far as the bank reveals it: neither bank's token says
 * who the PSU is, but the first account read does (ConnectPay: a token reaches one Customer's
 * accounts only). The same accounts showing up under a second TPP user means that user's
 * connection holds someone else's grant: an authorization code stolen from one login and redeemed
 * in another (Flowe forbids PKCE, which would otherwise bind the code to its login). That
 * connection is refused before its data is stored: it becomes `failed` (`bank_identity_conflict`),
 * its tokens are forgotten, and a security event is logged and counted.
 *
 * Two TPP users who really share an account (a joint account, one person with two app accounts)
 * meet the same refusal: the second connection is refused until the first is disconnected. That is
 * the price of the check, documented with the threat model. BANK_IDENTITY_CHECK turns it off (the
 * default in sandbox mode, where every app user logs in as one of a few sandbox PSUs).
 */
@Injectable()
export class BankIdentityService {
  constructor(
    private readonly connections: ConnectionsStore,
    private readonly identities: BankIdentityStore,
    private readonly security: SecurityEvents,
    @Inject(appConfig.KEY) private readonly app: ConfigOf<typeof appConfig>,
  ) {}

  /**
   * Call with the IBANs of every account a bank read returned, before storing anything from it:
   * they become this connection's, unless they are already another user's. The connection by id,
   * or as the caller has just read it.
   */
  async confirm(connection: string | Connection, ibans: readonly (string | undefined)[]): Promise<void> {
    if (!this.app.bankIdentityCheck) return;
    if (typeof connection === 'string') connection = await this.connectionOf(connection);
    const hashes = identityHashes(connection.aspspId, ibans);
    if (hashes.length === 0) return;
    const other = await this.identities.claim(connection, hashes);
    if (other) await this.refuse(connection, other);
  }

  /**
   * Call with an account the user only names (a payment's debtor): refused when it is another
   * user's, never recorded — what a user types proves nothing, and recording it would let anyone
   * claim someone else's account before its owner connects it.
   */
  async refuseIfAnothers(connection: Connection, ibans: readonly (string | undefined)[]): Promise<void> {
    if (!this.app.bankIdentityCheck) return;
    const hashes = identityHashes(connection.aspspId, ibans);
    if (hashes.length === 0) return;
    const other = await this.identities.claimedByOther(connection, hashes);
    if (other) await this.refuse(connection, other);
  }

  private async connectionOf(connectionId: string): Promise<Connection> {
    const connection = await this.connections.findById(connectionId);
    if (!connection) throw AppError.notFound('Connection');
    return connection;
  }

  private async refuse(connection: Connection, other: IdentityClaim): Promise<never> {
    await this.connections.markFailed(connection.id, 'bank_identity_conflict');
    this.security.record(
      'bank_identity_conflict',
      connection.aspspId,
      { connectionId: connection.id, userId: connection.userId, firstConnectionId: other.connectionId, firstUserId: other.userId },
      "connection refused: its bank accounts already belong to another user's connection (a code redeemed in the wrong login?)",
    );
    throw bankIdentityConflict(connection.aspspId);
  }
}

/** SHA-256 of bank and IBAN (electronic format): a match, not a second copy of account numbers. */
function identityHashes(aspspId: string, ibans: readonly (string | undefined)[]): Buffer[] {
  const normalised = new Set(ibans.filter((iban): iban is string => Boolean(iban)).map((iban) => electronicFormatIBAN(iban) ?? iban));
  return [...normalised].map((iban) => createHash('sha256').update(`${aspspId}:${iban}`).digest());
}
