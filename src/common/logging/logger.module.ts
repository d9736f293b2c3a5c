import type { IncomingMessage } from 'node:http';
import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule as PinoLoggerModule } from 'nestjs-pino';
import { appConfig, banksConfig } from '../../config/index.js';
import type { ConfigOf } from '../../config/define-config.js';
import { requestIdOf } from '../http/request-id.js';
import { logDestination, loggerOptions, resolveLogFormat } from './log-format.js';
import { redactUrl, secretCensor } from './redaction.js';

/**
 * Logs with secrets redacted: JSON lines, or pretty one-line text at a terminal (see log-format).
 * Every line of a request carries its id, assigned by the first middleware (see assignRequestId).
 */
@Module({
  imports: [
    PinoLoggerModule.forRootAsync({
      inject: [appConfig.KEY, banksConfig.KEY],
      useFactory: (app: ConfigOf<typeof appConfig>, banks: ConfigOf<typeof banksConfig>) => {
        const options = {
          ...loggerOptions('tpp-bff', app.logLevel),
          formatters: { log: secretCensor(banks.banks.flatMap((b) => b.subscriptionKey?.headers ?? [])) },
          genReqId: (req: IncomingMessage) => requestIdOf(req),
          serializers: {
            req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
              id: req.id,
              method: req.method,
              url: redactUrl(req.url),
            }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
          // Health probes and metrics scrapes every few seconds would drown the useful lines.
          // originalUrl: the Fastify adapter hands Nest middleware the URL without its matched path.
          autoLogging: { ignore: (req: IncomingMessage & { originalUrl?: string }) => /^\/(health|metrics)/.test(req.originalUrl ?? req.url ?? '') },
          quietReqLogger: true,
        };
        const destination = logDestination(resolveLogFormat(app.logFormat));
        // Every path, `/` included. nestjs-pino's default (`{/*splat}`) is matched by the Fastify
        // adapter as `/{/*splat}`, which only `/` satisfies, so no API request would be logged.
        return { pinoHttp: destination ? [options, destination] : options, forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }] };
      },
    }),
  ],
})
export class LoggingModule {}
