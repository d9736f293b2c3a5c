import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appConfig } from '../config/index.js';
import { ConfigError } from '../config/define-config.js';
import { bootstrap } from '../main.js';

/**
 * `npm start`. In sandbox mode (the default) it first starts the sandbox ASPSP as a separate
 * process, so one command runs the whole product on one machine; in production mode it is the BFF
 * alone. The sandbox is forked from its own entry point, never imported.
 */
if (existsSync('.env')) process.loadEnvFile('.env');
let mode: string;
try {
  mode = appConfig.parse(process.env).mode;
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`Configuration error: ${error.message}\n`);
  process.exit(1);
}

let sandbox: ChildProcess | undefined;
if (mode === 'sandbox') {
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
if (mode === 'sandbox') {
  console.log(`\n  tpp-bff is running at ${running.url}  (API docs: ${running.url}/docs)\n`);
  console.log(`  Demo page:      ${running.url}/`);
  console.log(`  Bank users:     alice or bob, password sandbox, OTP 123456`);
  console.log(`  Bank app (PSU): ${appConfig.parse(process.env).sandboxUrl}/psu  (approve consents and payments)\n`);
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
