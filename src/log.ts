// The one pino logger factory: JSON to stdout by default, pino-pretty for people when asked.
import { createRequire } from 'node:module';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  readonly level: string;
  readonly format: 'json' | 'pretty';
  /** Tests pass a sink; default is stdout. */
  readonly destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const base = { level: opts.level, base: { name: 'connect-dns' } };
  if (opts.destination) return pino(base, opts.destination);
  if (opts.format === 'pretty') {
    if (hasPretty()) return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: process.stdout.isTTY } } });
    const log = pino(base);
    log.warn('pino-pretty is not installed; logging JSON instead');
    return log;
  }
  return pino(base);
}

function hasPretty(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
