import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { JWK } from 'jose';
import { DataSource } from 'typeorm';

/** The owner of `identity_signing_keys`: named signing keys shared by every replica. */
@Injectable()
export class SigningKeyStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The key stored under `name`; the first caller's `candidate` becomes it. Replicas starting at
   * the same moment all end up with the one key that won the insert.
   */
  async loadOrCreate(name: string, candidate: JWK): Promise<JWK> {
    await this.dataSource.query('INSERT INTO identity_signing_keys (name, private_jwk) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
      name,
      JSON.stringify(candidate),
    ]);
    const rows = (await this.dataSource.query('SELECT private_jwk FROM identity_signing_keys WHERE name = $1', [name])) as { private_jwk: JWK }[];
    if (!rows[0]) throw new Error(`signing key ${name} vanished`);
    return rows[0].private_jwk;
  }
}
