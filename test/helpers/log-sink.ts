// A pino destination that keeps log lines as data, so tests can assert on logs.
import { pino, type Logger } from 'pino';

export interface LogSink {
  readonly logger: Logger;
  readonly lines: Record<string, unknown>[];
  find(msg: RegExp): Record<string, unknown> | undefined;
}

export function createLogSink(level = 'info'): LogSink {
  const lines: Record<string, unknown>[] = [];
  const destination = {
    write(s: string): void {
      for (const part of s.split('\n')) if (part) lines.push(JSON.parse(part) as Record<string, unknown>);
    },
  };
  const logger = pino({ level }, destination);
  return { logger, lines, find: (msg) => lines.find((l) => typeof l['msg'] === 'string' && msg.test(l['msg'])) };
}
