import { Logger } from '@nestjs/common';
import { createLogger, LOG_FORMATS, LOG_LEVELS, resolveLogFormat, type LogFormat } from '../common/logging/log-format.js';
import { PinoNestLogger } from '../common/logging/nest-logger.js';
import { PROFILES, sandboxOptionsFromEnv, SandboxConfigError } from './config.js';
import { SANDBOX_OTP, SANDBOX_PASSWORD } from './data/personas.js';
import { SandboxDirectory } from './data/sandbox-directory.js';
import { createSandboxApp } from './sandbox-app.js';

/**
 * The sandbox logs like the BFF (LOG_LEVEL, LOG_FORMAT: pretty at a terminal, JSON otherwise), each
 * line labelled `sandbox`, so `npm start` shows one readable stream for both processes. Set before
 * the app is created, so Nest's own start-up lines use it too.
 */
function useProductLogger(env: NodeJS.ProcessEnv): void {
  const level = env.LOG_LEVEL?.trim() || 'info';
  const format = env.LOG_FORMAT?.trim() || undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new SandboxConfigError(`LOG_LEVEL must be one of: ${LOG_LEVELS.join(', ')}`);
  if (format !== undefined && !(LOG_FORMATS as readonly string[]).includes(format))
    throw new SandboxConfigError(`LOG_FORMAT must be one of: ${LOG_FORMATS.join(', ')}`);
  Logger.overrideLogger(new PinoNestLogger(createLogger('sandbox', level, resolveLogFormat(format as LogFormat | undefined))));
}

/** `npm run sandbox`: the two sandbox banks on SANDBOX_PORT (default 3100) and, with certs, SANDBOX_TLS_PORT. */
async function main(): Promise<void> {
  useProductLogger(process.env);
  const logger = new Logger('Sandbox');
  const sandbox = await createSandboxApp(sandboxOptionsFromEnv(process.env, process.cwd()));
  const base = sandbox.config.publicUrl ?? sandbox.httpUrl;
  const mtls = PROFILES.map((p) => `${p} ${sandbox.config.modes[p].requireMtls ? 'required' : 'optional'}`).join(', ');
  logger.log(
    `Sandbox ASPSP on ${sandbox.httpUrl}${sandbox.httpsUrl === undefined ? ' (no TLS: run npm run sandbox:certs)' : ` and ${sandbox.httpsUrl} (mTLS ${mtls})`}`,
  );
  if (sandbox.bankHttpsUrls !== undefined) logger.log(`Per-bank TLS listeners: ${PROFILES.map((p) => `${p} ${sandbox.bankHttpsUrls![p]}`).join(', ')}`);
  logger.log(`ConnectPay authorize ${base}/connectpay/oauth/authorize, token /connectpay/oauth/token, API /connectpay/psd2/v1`);
  logger.log(
    `Flowe IdP ${base}/flowe/idp/oauth2/v2.0/authorize, token /flowe/idp/oauth2/v2.0/token, AIS /flowe/openbankingais/v1, PIS /flowe/openbankingpis/v1`,
  );
  logger.log(
    `PSU app ${base}/psu — users ${sandbox.app
      .get(SandboxDirectory)
      .data.persons.map((p) => p.username)
      .join(', ')}, password "${SANDBOX_PASSWORD}", OTP ${SANDBOX_OTP}; admin ${base}/admin/...`,
  );
  // Tells `npm start`'s launcher (which forked this process) that the banks are up.
  process.send?.({ ready: true, url: sandbox.httpUrl });
  const stop = (): void => void sandbox.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  new Logger('Sandbox').error(
    error instanceof SandboxConfigError ? `Configuration error: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : String(error),
  );
  process.exit(1);
});
