import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file runs as dist/bench/lib/paths.js. */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const built = join(root, 'dist');

export const paths = {
  root,
  bff: join(built, 'src/main.js'),
  sandbox: join(built, 'src/sandbox/main.js'),
  bareServer: join(built, 'bench/anchors/bare-server.js'),
  nestAdapter: join(built, 'bench/anchors/nest-adapter.js'),
  sseClients: join(built, 'bench/load/sse-clients.js'),
  autocannonWorker: join(built, 'bench/load/autocannon.js'),
  vaultMicro: join(built, 'bench/micro/vault.js'),
  wrkScript: join(root, 'bench/wrk/requests.lua'),
  results: join(root, 'bench/results'),
  readme: join(root, 'README.md'),
};
