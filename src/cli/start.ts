import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appConfig } from '../config/index.js';
import { bootstrap, exitOnConfigurationProblems } from '../main.js';

/**
 * `npm start`. In sandbox mode (the default) it first starts the sandbox ASPSP as a separate
 * process, so one command runs the whole product on one machine; in production mode it is the BFF
 * alone. The sandbox is forked from its own entry point, never imported. Both log in one format
 * (pretty at a terminal), each line labelled with its process; the banner comes last.
 */
if (existsSync('.env')) process.loadEnvFile('.env');
// Every problem at once, before anything starts.
exitOnConfigurationProblems(process.env);
const app = appConfig.parse(process.env);

let sandbox: ChildProcess | undefined;
if (app.mode === 'sandbox') {
  const entry = resolve(dirname(fileURLToPath(import.meta.url)), '../sandbox/main.js');
  if (existsSync(entry)) {
    sandbox = fork(entry, [], { stdio: 'inherit' });
    await new Promise<void>((ready, failed) => {
      sandbox!.once('message', () => ready());
      sandbox!.once('exit', (code) => failed(new Error(`the sandbox ASPSP exited with code ${code}`)));
    });
  }
}

const running = await bootstrap(process.env);
if (app.mode === 'sandbox') {
  console.log(`\n  tpp-bff is running at ${running.url}  (API docs: ${running.url}/docs)\n`);
  console.log(`  Demo page:      ${running.url}/`);
  console.log(`  Bank users:     alice or bob, password sandbox, OTP 123456`);
  console.log(`  Bank app (PSU): ${app.sandboxUrl}/psu  (approve consents and payments)`);
  console.log(`\n  Ctrl-C stops everything.\n`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    sandbox?.kill('SIGTERM');
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
