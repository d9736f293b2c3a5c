import request from 'supertest';
import { withClient } from '../support/database.js';
import { connectUser, startBankWorld, type BankWorld } from '../support/bank-world.js';
import { sandboxLogin } from '../support/bank-login.js';

/**
 * The vault binds each token to its row, its user and its bank: whoever can write the database
 * cannot hand one user's bank grant to another by editing `user_id` (or `aspsp_id`).
 */
describe('token vault: a row moved to another user no longer opens', () => {
  let world: BankWorld;

  beforeAll(async () => {
    world = await startBankWorld({ env: { SCHEDULER_ENABLED: 'false' } });
  });
  afterAll(async () => {
    await world.close();
  });

  it.each([
    ['user_id', "user_id = 'mallory'", 'mallory'],
    ['aspsp_id', "aspsp_id = 'connectpay'", 'alice'],
  ])('changing %s: the tokens do not open, the connection needs a new login, and the bank is never called with them', async (_column, change, reader) => {
    const alice = await connectUser(world.bff.url, 'alice', 'flowe');
    await withClient(world.bff.db.url, (c) => c.query(`UPDATE connections SET ${change} WHERE id = $1`, [alice.connectionId]));
    const token = reader === 'alice' ? alice.token : await sandboxLogin(world.bff.url, reader);
    const consentsBefore = ((await (await fetch(`${world.sandbox.httpUrl}/admin/requests?route=consents`)).json()) as { requests: unknown[] }).requests.length;

    const res = await request(world.bff.url).post(`/api/v1/connections/${alice.connectionId}/consents`).set('Authorization', `Bearer ${token}`).send({});
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'reauth_required' });
    const row = await withClient(
      world.bff.db.url,
      async (c) =>
        (await c.query('SELECT status, failure_reason, access_token_enc, refresh_token_enc FROM connections WHERE id = $1', [alice.connectionId])).rows[0],
    );
    expect(row).toEqual({ status: 'reauth_required', failure_reason: 'vault_error', access_token_enc: null, refresh_token_enc: null });
    expect(((await (await fetch(`${world.sandbox.httpUrl}/admin/requests?route=consents`)).json()) as { requests: unknown[] }).requests.length).toBe(
      consentsBefore,
    );
  });
});
