import { resolve } from 'node:path';
import { generateSandboxCerts } from '../src/sandbox/certs.js';

// `npm run sandbox:certs [dir]`: throwaway CA, server, client and rogue certificates for local mTLS.
// SANDBOX_CERT_HOSTS (comma-separated) adds DNS names to the server certificate (the image adds
// `sandbox`, the compose service name).
const dir = resolve(process.argv[2] ?? '.data/sandbox-certs');
const serverHosts = (process.env.SANDBOX_CERT_HOSTS ?? '')
  .split(',')
  .map((host) => host.trim())
  .filter(Boolean);
const certs = generateSandboxCerts(dir, { serverHosts });
console.log(`Sandbox certificates written to ${certs.dir}:`);
for (const [role, pair] of Object.entries(certs)) {
  if (typeof pair === 'object') console.log(`  ${role.padEnd(12)} ${pair.certFile}  ${pair.keyFile}`);
}
console.log('Start the sandbox (npm run sandbox): it picks these up and opens the TLS port (SANDBOX_TLS_PORT, default 3101).');
