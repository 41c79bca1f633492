// Deterministic proxy port allocation: a stable start per proxy ID, probing upward through the range.

/** 32-bit FNV-1a over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

/**
 * The first port not in `used`, starting at min + hash(id) mod size and wrapping; undefined when the range is full.
 * Starting from the hash (not from min) keeps a proxy's port when other proxies are added or removed.
 */
export function allocatePort(id: string, range: PortRange, used: ReadonlySet<number>): number | undefined {
  const size = range.max - range.min + 1;
  if (size <= 0) return undefined;
  const start = fnv1a32(id) % size;
  for (let k = 0; k < size; k++) {
    const port = range.min + ((start + k) % size);
    if (!used.has(port)) return port;
  }
  return undefined;
}
