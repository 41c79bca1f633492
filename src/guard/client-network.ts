// The client network a UDP response is charged to for rate limiting: the address cut to a prefix (/24, /56).
import { parseIp } from '../net/addr.js';

/** Dotted-quad text to an unsigned 32-bit number without allocating; -1 when it is not one. */
function parseIpv4(text: string, from: number): number {
  let value = 0;
  let part = -1;
  let parts = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (part < 0) return -1;
      value = value * 256 + part;
      part = -1;
      parts++;
    } else if (c >= 0x30 && c <= 0x39) {
      part = part < 0 ? c - 0x30 : part * 10 + (c - 0x30);
      if (part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (part < 0 || parts !== 3) return -1;
  return value * 256 + part;
}

const MAPPED_PREFIX = '::ffff:';

/**
 * A key naming the client's network: a number for IPv4 (the address shifted right past the host bits, so no
 * string is built for the common case), a string for IPv6. IPv4-mapped IPv6 counts as the IPv4 address it
 * carries, so one client is one network whichever socket it came through. undefined for text that is no IP.
 */
export function networkKey(address: string, ipv4PrefixLength: number, ipv6PrefixLength: number): number | string | undefined {
  let v4 = parseIpv4(address, 0);
  if (v4 < 0 && address.startsWith(MAPPED_PREFIX)) v4 = parseIpv4(address, MAPPED_PREFIX.length);
  if (v4 >= 0) return Math.floor(v4 / 2 ** (32 - ipv4PrefixLength));
  const bytes = parseIp(address);
  if (bytes === undefined) return undefined;
  if (bytes.length === 4) return Math.floor(bytes.readUInt32BE(0) / 2 ** (32 - ipv4PrefixLength));
  // ::ffff:a.b.c.d written in hex (::ffff:0a01:0203) is still that IPv4 address.
  if (bytes.readUInt32BE(0) === 0 && bytes.readUInt32BE(4) === 0 && bytes.readUInt32BE(8) === 0xffff) {
    return Math.floor(bytes.readUInt32BE(12) / 2 ** (32 - ipv4PrefixLength));
  }
  const whole = ipv6PrefixLength >> 3;
  const rest = ipv6PrefixLength & 7;
  let key = '6:';
  for (let i = 0; i < whole; i++) key += (bytes[i] as number).toString(16).padStart(2, '0');
  if (rest > 0) key += (((bytes[whole] as number) >> (8 - rest)) << (8 - rest)).toString(16).padStart(2, '0');
  return key;
}
