import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tour } from '../../clients/typescript/example.js';
import { connect, startAisWorld, validConsent, type AisWorld } from '../ais/support.js';
import { OPENAPI_FILE } from '../support/contract.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const CLIENT_DIR = join(root, 'clients', 'typescript');

/** clients/typescript: generated from the committed document, compiling, and working against a running BFF. */
describe('the typed TypeScript client', () => {
  it('is generated from the committed document (regenerate it with npm run openapi)', async () => {
    const fresh = join(mkdtempSync(join(tmpdir(), 'tpp-client-')), 'schema.d.ts');
    // The options of `npm run openapi`: a property with a default stays optional, as its schema says
    // (a request body may leave it out), instead of becoming required.
    await run(
      process.execPath,
      [join(root, 'node_modules/openapi-typescript/bin/cli.js'), OPENAPI_FILE, '-o', fresh, '--default-non-nullable', 'false', '--silent'],
      {
        cwd: root,
      },
    );
    expect(readFileSync(join(CLIENT_DIR, 'schema.d.ts'), 'utf8')).toBe(readFileSync(fresh, 'utf8'));
  });

  it('compiles with tsc on its own (strict, the client and its example program)', async () => {
    await expect(
      run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(CLIENT_DIR, 'tsconfig.json')], { cwd: root }),
    ).resolves.toBeDefined();
  });

  describe('against a running BFF and the sandbox banks', () => {
    let world: AisWorld;

    beforeAll(async () => {
      world = await startAisWorld();
    });
    afterAll(() => world?.close());

    it('lists banks, starts a connection, lists consents, reads transactions and handles a typed problem', async () => {
      const alice = await connect(world.bff.url, 'alice', 'flowe');
      const consentId = await validConsent(world, alice);
      const result = await tour({ baseUrl: world.bff.url, token: alice.token, returnUrl: `${world.bff.url}/`, connectionId: alice.connectionId });
      expect(result.banks).toEqual(['connectpay', 'flowe']);
      expect(result.startedConnection).toEqual({ status: 'pending', authorizationUrl: expect.stringMatching(/^\/auth\/connectpay\/login\?ticket=/) });
      expect(result.consentStatuses).toEqual(['valid']);
      expect(result.transactions).toEqual({
        accountId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        total: expect.any(Number),
        firstAmount: expect.stringMatching(/^-?\d+\.\d{2}$/),
      });
      expect(result.transactions.total).toBeGreaterThan(0);
      expect(result.missingPayment).toEqual({ status: 404, code: 'not_found', requestId: expect.any(String) });
      expect(consentId).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});
