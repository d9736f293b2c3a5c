import request from 'supertest';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { emit, startWebhookReceiver, type WebhookReceiver } from '../events/support.js';
import { createConnection, sandboxLogin } from '../support/bank-login.js';
import { connectUser, bankEnv, startSandbox } from '../support/bank-world.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { waitFor } from '../support/process.js';

const SECRET = 'whsec_test_0123456789abcdef0123456789abcdef';

/** The integrator's own id on a connection: stored, shown to its user only, and handed to the webhook receiver with the connection's events. */
describe('a connection’s externalReference', () => {
  let sandbox: SandboxApp;
  let receiver: WebhookReceiver;
  let bff: TestBff;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    receiver = await startWebhookReceiver();
    bff = await startTestBff({ ...bankEnv(sandbox), SCHEDULER_ENABLED: 'false', WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_POLL_MS: '50' });
    alice = await sandboxLogin(bff.url, 'alice');
    bob = await sandboxLogin(bff.url, 'bob');
  });
  afterAll(async () => {
    await bff.close();
    await sandbox.close();
    await receiver.close();
  });

  const api = () => request(bff.url);
  const create = (token: string, body: Record<string, unknown>) =>
    api()
      .post('/api/v1/connections')
      .set('Authorization', `Bearer ${token}`)
      .send({ aspspId: 'flowe', returnUrl: `${bff.url}/`, ...body });
  const eventsOf = (connectionId: string, type: string) => receiver.accepted().filter((e) => e.type === type && e.data.connectionId === connectionId);

  it('is stored when the connection is created and shown on it, in the list, and not at all when unset', async () => {
    const created = await create(alice, { externalReference: 'cust-4711 / Konto Müller' }).expect(201);
    expect(created.body).toMatchObject({ status: 'pending', externalReference: 'cust-4711 / Konto Müller' });
    const one = await api().get(`/api/v1/connections/${created.body.id}`).set('Authorization', `Bearer ${alice}`).expect(200);
    expect(one.body.externalReference).toBe('cust-4711 / Konto Müller');
    const list = await api().get('/api/v1/connections').set('Authorization', `Bearer ${alice}`).expect(200);
    expect(list.body.connections.find((c: { id: string }) => c.id === created.body.id)).toMatchObject({ externalReference: 'cust-4711 / Konto Müller' });

    const plain = await createConnection(bff.url, alice, 'flowe');
    const shown = await api().get(`/api/v1/connections/${plain.id}`).set('Authorization', `Bearer ${alice}`).expect(200);
    expect(shown.body).not.toHaveProperty('externalReference');
  });

  it.each([
    ['empty', ''],
    ['too long', 'x'.repeat(129)],
    ['a newline', 'cust\n4711'],
    ['a bidi override', 'cust\u202e1174'],
    ['not a string', 4711],
  ])('refuses a reference that is %s with a problem naming externalReference', async (_why, externalReference) => {
    const res = await create(alice, { externalReference }).expect(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'externalReference' })]));
    expect(res.body.errors.every((e: { field: string }) => e.field === 'externalReference')).toBe(true);
  });

  it('is changed and cleared with PATCH by its user only', async () => {
    const { id } = await createConnection(bff.url, alice, 'flowe');
    const set = await api().patch(`/api/v1/connections/${id}`).set('Authorization', `Bearer ${alice}`).send({ externalReference: 'ledger-1' }).expect(200);
    expect(set.body).toMatchObject({ id, externalReference: 'ledger-1' });
    // Another user's connection is not found, and is left as it was.
    await api().patch(`/api/v1/connections/${id}`).set('Authorization', `Bearer ${bob}`).send({ externalReference: 'bobs' }).expect(404);
    await api().get(`/api/v1/connections/${id}`).set('Authorization', `Bearer ${bob}`).expect(404);
    const bad = await api().patch(`/api/v1/connections/${id}`).set('Authorization', `Bearer ${alice}`).send({}).expect(400);
    expect(bad.body.errors[0].field).toBe('externalReference');
    await api()
      .patch(`/api/v1/connections/${id}`)
      .set('Authorization', `Bearer ${alice}`)
      .send({ externalReference: 'x'.repeat(129) })
      .expect(400);
    expect((await api().get(`/api/v1/connections/${id}`).set('Authorization', `Bearer ${alice}`).expect(200)).body.externalReference).toBe('ledger-1');
    const cleared = await api().patch(`/api/v1/connections/${id}`).set('Authorization', `Bearer ${alice}`).send({ externalReference: null }).expect(200);
    expect(cleared.body).not.toHaveProperty('externalReference');
  });

  it("reaches the webhook receiver with the connection's events, and never with another user's", async () => {
    const connected = await connectUser(bff.url, 'alice', 'flowe', undefined, alice);
    await api()
      .patch(`/api/v1/connections/${connected.connectionId}`)
      .set('Authorization', `Bearer ${alice}`)
      .send({ externalReference: 'cust-alice' })
      .expect(200);
    // Delivery reads the reference when it sends: the login's own event, possibly sent before the PATCH, is not asserted on.
    await api().delete(`/api/v1/connections/${connected.connectionId}`).set('Authorization', `Bearer ${alice}`).expect(204);
    await waitFor(() => eventsOf(connected.connectionId, 'connection.status').some((e) => e.data.status === 'revoked'), 10_000, 'the revoked event');
    const revoked = eventsOf(connected.connectionId, 'connection.status').find((e) => e.data.status === 'revoked')!;
    expect(revoked).toMatchObject({ userId: 'alice', externalReference: 'cust-alice', data: { connectionId: connected.connectionId } });
    // Its user can read the event again by id, as the webhook body; nobody else can.
    expect((await api().get(`/api/v1/events/${revoked.id}`).set('Authorization', `Bearer ${alice}`).expect(200)).body).toEqual(revoked);
    await api().get(`/api/v1/events/${revoked.id}`).set('Authorization', `Bearer ${bob}`).expect(404);
    const bad = await api().get('/api/v1/events/12a').set('Authorization', `Bearer ${alice}`).expect(400);
    expect(bad.body.errors[0].field).toBe('eventId');

    // An event of bob's that names alice's connection (it cannot happen through the API) still never carries her reference.
    await emit(bff, 'bob', 'payment.status', { paymentId: 'p-bob', connectionId: connected.connectionId, status: 'ACSC' });
    // And an event without a connection, or with a connectionId that is no UUID, is delivered without one.
    await emit(bff, 'alice', 'payment.status', { paymentId: 'p-odd', connectionId: 'not-a-uuid', status: 'ACSC' });
    await waitFor(() => receiver.accepted().filter((e) => ['p-bob', 'p-odd'].includes(e.data.paymentId as string)).length === 2, 10_000, 'both events');
    for (const event of receiver.accepted().filter((e) => ['p-bob', 'p-odd'].includes(e.data.paymentId as string))) {
      expect(event).not.toHaveProperty('externalReference');
    }
  });
});
