// Merges FileParts in order: later scalars win, objects merge key by key, definitions accumulate.
import { isPlain, type Plain } from './reader.js';
import type { FilePart } from './decode-file.js';

/** Top-level lists that add up across files, as Consul's merge does; every other list is replaced. */
const ACCUMULATE = new Set(['services', 'checks', 'nodes', 'recursors', 'preparedQueries']);

export interface Merged {
  readonly part: FilePart;
  /** FilePart path ("ports.proxyMinPort") → the file that last set it, to place cross-file problems. */
  readonly origins: ReadonlyMap<string, string>;
}

function mergeInto(target: Plain, source: Plain, file: string, prefix: string, origins: Map<string, string>): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const current = target[key];
    if (prefix === '' && ACCUMULATE.has(key) && Array.isArray(current) && Array.isArray(value)) {
      target[key] = [...(current as unknown[]), ...(value as unknown[])];
    } else if (isPlain(value)) {
      const copy: Plain = isPlain(current) ? { ...current } : {};
      mergeInto(copy, value, file, path, origins);
      target[key] = copy;
    } else {
      target[key] = Array.isArray(value) ? [...(value as unknown[])] : value;
    }
    origins.set(path, file);
  }
}

export function mergeParts(parts: readonly { readonly file: string; readonly part: FilePart }[]): Merged {
  const target: Plain = {};
  const origins = new Map<string, string>();
  for (const { file, part } of parts) mergeInto(target, part as Plain, file, '', origins);
  return { part: target as FilePart, origins };
}
