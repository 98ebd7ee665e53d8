import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs; request and job ids are bound as child loggers (`reqId`, `jobId`). */
export function createLogger(service: string, level: string = 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'token'], censor: '[redacted]' },
  });
}
