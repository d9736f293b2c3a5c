import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

/** Another user's connection that has already shown the same bank account. */
export interface IdentityClaim {
  connectionId: string;
  userId: string;
}

/** The owner of `bank_identities`: the accounts (as hashes) each connection has shown. */
@Injectable()
export class BankIdentityStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Records that `connection` showed these accounts, unless a connection of another user (not
   * revoked) showed one of them first: then nothing is recorded and that connection is returned.
   * One transaction under a per-bank advisory lock, so two first reads of the same accounts by two
   * users cannot both pass.
   */
  claim(connection: { id: string; userId: string; aspspId: string }, hashes: Buffer[]): Promise<IdentityClaim | undefined> {
    return this.dataSource.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('bank_identities:' || $1))`, [connection.aspspId]);
      const other = await this.claimedByOther(connection, hashes, em);
      if (other) return other;
      await em.query(
        `INSERT INTO bank_identities (connection_id, aspsp_id, identity_hash, user_id) SELECT $1, $2, h, $3 FROM unnest($4::bytea[]) AS h ON CONFLICT DO NOTHING`,
        [connection.id, connection.aspspId, connection.userId, hashes],
      );
      return undefined;
    });
  }

  /** The first connection of another user (not revoked) that showed one of these accounts; nothing is recorded. */
  async claimedByOther(
    connection: { userId: string; aspspId: string },
    hashes: Buffer[],
    em: EntityManager = this.dataSource.manager,
  ): Promise<IdentityClaim | undefined> {
    const [other] = (await em.query(
      `SELECT b.connection_id AS "connectionId", b.user_id AS "userId" FROM bank_identities b JOIN connections c ON c.id = b.connection_id
        WHERE b.aspsp_id = $1 AND b.identity_hash = ANY($2) AND b.user_id <> $3 AND c.status <> 'revoked'
        ORDER BY b.first_seen_at LIMIT 1`,
      [connection.aspspId, hashes, connection.userId],
    )) as IdentityClaim[];
    return other;
  }
}
