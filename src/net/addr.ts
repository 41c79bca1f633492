// The only importer of `ip`: address text/bytes conversion, always after net.isIP validation.
import net from 'node:net';
import ip from 'ip';

/** 4 or 16 bytes for a valid IP literal (a %zone suffix is ignored), else undefined. */
export function parseIp(text: string): Buffer | undefined {
  const bare = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  const family = net.isIP(bare);
  if (family === 0) return undefined;
  return ip.toBuffer(bare);
}

/** Canonical text: dotted quad for IPv4, RFC 5952 for IPv6; undefined for a non-IP. */
export function canonicalIp(text: string): string | undefined {
  const b = parseIp(text);
  if (!b) return undefined;
  return ipToText(b);
}

export function ipToText(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i));
  // RFC 5952: compress the longest run (first on ties) of two or more zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

export function ipFamily(text: string): 4 | 6 | 0 {
  const b = parseIp(text);
  return b ? (b.length === 4 ? 4 : 6) : 0;
}

/** in-addr.arpa / ip6.arpa name (FQDN, lower-case) for an IP literal. */
export function reverseName(text: string): string | undefined {
  const b = parseIp(text);
  if (!b) return undefined;
  if (b.length === 4) return `${b[3]}.${b[2]}.${b[1]}.${b[0]}.in-addr.arpa.`;
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) {
    const v = b[i] ?? 0;
    nibbles.push((v & 0x0f).toString(16), (v >> 4).toString(16));
  }
  return `${nibbles.join('.')}.ip6.arpa.`;
}

/** Consul's `.addr` label: 8 (IPv4) or 32 (IPv6) lower-case hex characters, no compression. */
export function hexAddr(text: string): string | undefined {
  const b = parseIp(text);
  return b ? b.toString('hex') : undefined;
}

/** The IP for an 8- or 32-hex-character label; undefined for bad hex; null for another length. */
export function ipFromHex(label: string): string | undefined | null {
  if (label.length !== 8 && label.length !== 32) return null;
  if (!/^[0-9a-fA-F]+$/.test(label)) return undefined;
  return ipToText(Buffer.from(label, 'hex'));
}

/** Whether `text` is an IP literal (v4 or v6). */
export function isIp(text: string): boolean {
  return parseIp(text) !== undefined;
}
