import type { TokenField, VaultBinding } from '../token-vault/token-vault.service.js';

/** The vault binding of a connection's token column: its row, its user and its bank (see TokenCipher). */
export function tokenBinding(row: { id: string; userId: string; aspspId: string }, field: TokenField): VaultBinding {
  return { connectionId: row.id, userId: row.userId, aspspId: row.aspspId, field };
}
