import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { PinoPretty } from 'pino-pretty';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** `pretty`: coloured one-line text for a person at a terminal; `json`: one JSON object per line. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The format asked for; otherwise pretty for a person at a terminal and JSON for everything else. */
export function resolveLogFormat(configured: LogFormat | undefined, stdout: { isTTY?: boolean } = process.stdout): LogFormat {
  return configured ?? (stdout.isTTY ? 'pretty' : 'json');
}

/**
 * Nest's start-up narration: a line per wired module and per mapped route. Useful when debugging
 * routing, noise on every start, so it is logged at debug level instead of info.
 */
const FRAMEWORK_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);
const INFO = 30;

function isFrameworkNarration(first: unknown): boolean {
  return typeof first === 'object' && first !== null && FRAMEWORK_CONTEXTS.has((first as { context?: unknown }).context as string);
}

/** Options every process of the product logs with: the service label on each line, Nest's narration at debug. */
export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    // pino's default fields (which replica wrote it) plus which process of the product.
    base: { pid: process.pid, hostname: hostname(), service },
    hooks: {
      logMethod(args, method, levelValue) {
        if (levelValue === INFO && isFrameworkNarration(args[0])) return this.debug(...(args as Parameters<Logger['debug']>));
        return method.apply(this, args);
      },
    },
  };
}

/** Fields shown in the line's text (or not worth a terminal's width) rather than appended as JSON. */
const SHOWN_OR_HIDDEN = ['pid', 'hostname', 'service', 'context', 'req', 'res', 'responseTime', 'reqId'];

interface RequestFields {
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
}

/**
 * Where the lines go: stdout as JSON (pino's default), or through pino-pretty, in-process and
 * synchronously so a line is on the terminal before the next one (and before the process exits).
 * A pretty line reads `[12:00:01.250] INFO: tpp-bff [Context] message {"other":"fields"}`.
 */
export function logDestination(format: LogFormat): DestinationStream | undefined {
  if (format === 'json') return undefined;
  return PinoPretty({
    sync: true,
    destination: 1,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    // The message in the terminal's own colour; the label and level carry the colour.
    customColors: 'message:reset',
    useOnlyCustomProps: false,
    ignore: SHOWN_OR_HIDDEN.join(','),
    messageFormat: (log, messageKey, _level, { colors }) => {
      const { req, res, responseTime } = log as RequestFields;
      const service = String(log.service ?? '');
      const parts = [(service === 'sandbox' ? colors.magenta : colors.cyan)(service.padEnd(7))];
      if (typeof log.context === 'string' && log.context.toLowerCase() !== service) parts.push(colors.gray(`[${log.context}]`));
      parts.push(String(log[messageKey] ?? ''));
      if (req?.method)
        parts.push(`${req.method} ${req.url ?? ''}${res?.statusCode ? ` → ${res.statusCode}` : ''}${responseTime !== undefined ? ` ${responseTime} ms` : ''}`);
      return parts.join(' ');
    },
  });
}

/** A root logger for a process's own lines (start-up, shutdown), in the product's format. */
export function createLogger(service: string, level: string, format: LogFormat): Logger {
  const destination = logDestination(format);
  return destination ? pino(loggerOptions(service, level), destination) : pino(loggerOptions(service, level));
}
