// Turns a child's stdout/stderr into log lines: line-buffered, with long lines cut so memory stays bounded.
import type { Readable } from 'node:stream';

/** A line longer than this is logged in pieces of this size. */
export const MAX_LINE = 8192;

export function pipeLines(stream: Readable, emit: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, '');
      if (line !== '') emit(line.slice(0, MAX_LINE));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
    while (pending.length > MAX_LINE) {
      emit(pending.slice(0, MAX_LINE));
      pending = pending.slice(MAX_LINE);
    }
  });
  stream.on('end', () => {
    if (pending !== '') emit(pending);
    pending = '';
  });
  // A broken pipe from a dying child is not worth a crash; its exit is logged elsewhere.
  stream.on('error', () => undefined);
}
