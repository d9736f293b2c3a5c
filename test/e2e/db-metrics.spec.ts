import request from 'supertest';
import { DataSource } from 'typeorm';
import { MetricsService } from '../../src/common/metrics/metrics.service.js';
import { startTestBff, type TestBff } from '../support/bff.js';

/** `db_queries_total` counts statements sent to PostgreSQL: the per-request budget `npm run bench` reports. */
describe('db_queries_total', () => {
  let bff: TestBff;
  let counted: () => Promise<number>;

  beforeAll(async () => {
    // No scheduler: nothing queries the database in the background, so every count is the test's own.
    bff = await startTestBff({ SCHEDULER_ENABLED: 'false' });
    const metrics = bff.app.get(MetricsService);
    counted = async () => (await metrics.dbQueries.get()).values[0]?.value ?? 0;
  });
  afterAll(async () => {
    await bff.close();
  });

  it('counts every statement, BEGIN and COMMIT included', async () => {
    const before = await counted();
    await bff.app.get(DataSource).transaction(async (m) => {
      await m.query('SELECT 1');
      await m.query('SELECT 2');
    });
    expect((await counted()) - before).toBe(4);
  });

  it('counts what a request costs: readiness is one query, liveness none', async () => {
    const before = await counted();
    await request(bff.url).get('/health/live').expect(200);
    expect(await counted()).toBe(before);
    await request(bff.url).get('/health/ready').expect(200);
    expect((await counted()) - before).toBe(1);
  });

  it('is exported on /metrics', async () => {
    const res = await request(bff.url).get('/metrics').expect(200);
    expect(res.text).toMatch(/^db_queries_total\{service="tpp-bff"\} [1-9]\d*$/m);
  });
});
