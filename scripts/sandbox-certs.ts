import { resolve } from 'node:path';
import { generateSandboxCerts } from '../src/sandbox/certs.js';

// `npm run sandbox:certs [dir]`: throwaway CA, server, client and rogue certificates for local mTLS.
const dir = resolve(process.argv[2] ?? '.data/sandbox-certs');
const certs = generateSandboxCerts(dir);
console.log(`Sandbox certificates written to ${certs.dir}:`);
for (const [role, pair] of Object.entries(certs)) {
  if (typeof pair === 'object') console.log(`  ${role.padEnd(12)} ${pair.certFile}  ${pair.keyFile}`);
}
console.log('Start the sandbox (npm run sandbox): it picks these up and opens the TLS port (SANDBOX_TLS_PORT, default 3101).');
