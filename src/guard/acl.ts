// Which clients may use forwarding (dns_config.recursion_allow): a net.BlockList, its decisions cached per address.
import net from 'node:net';

export interface RecursionAcl {
  /** Whether `address` (as a socket reports it: IPv4, IPv6, IPv4-mapped IPv6, maybe with a %zone) is inside the list. */
  allows(address: string): boolean;
}

/**
 * Decisions remembered per address string. Real clients are few; a spoofed flood of addresses only costs a
 * BlockList check each (a few hundred ns), and the map never grows past this.
 */
export const ACL_CACHE_SIZE = 4096;

const ALLOW_ALL: RecursionAcl = { allows: () => true };

function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const slash = cidr.indexOf('/');
  const address = slash < 0 ? cidr : cidr.slice(0, slash);
  const version = net.isIP(address);
  const max = version === 4 ? 32 : 128;
  const prefix = slash < 0 ? max : Number(cidr.slice(slash + 1));
  if (version === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new RangeError(`bad CIDR ${JSON.stringify(cidr)}`);
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * An ACL over canonical CIDRs (the config decoder validated them; a bad one here is a programming error and
 * throws RangeError). An empty list allows nobody: forwarding is then closed to every client. IPv4-mapped
 * IPv6 addresses (::ffff:10.1.2.3, what a dual-stack socket reports for an IPv4 client) match IPv4 ranges:
 * BlockList compares them as the IPv4 address they carry.
 */
export function createRecursionAcl(cidrs: readonly string[], cacheSize = ACL_CACHE_SIZE): RecursionAcl {
  const list = new net.BlockList();
  let anyV4 = false;
  let anyV6 = false;
  for (const cidr of cidrs) {
    const c = parseCidr(cidr);
    if (c.prefix === 0) {
      if (c.family === 'ipv4') anyV4 = true;
      else anyV6 = true;
    }
    list.addSubnet(c.address, c.prefix, c.family);
  }
  // Everyone allowed (an operator's explicit choice): no lookup at all on the forward path.
  if (anyV4 && anyV6) return ALLOW_ALL;
  const decided = new Map<string, boolean>();
  const check = (address: string): boolean => {
    const zone = address.indexOf('%');
    const bare = zone < 0 ? address : address.slice(0, zone);
    const version = net.isIP(bare);
    if (version === 0) return false;
    return list.check(bare, version === 4 ? 'ipv4' : 'ipv6');
  };
  return {
    allows(address: string): boolean {
      const known = decided.get(address);
      if (known !== undefined) return known;
      const ok = check(address);
      if (decided.size >= cacheSize) {
        // Insertion order: the first key is the oldest decision.
        for (const k of decided.keys()) { decided.delete(k); break; }
      }
      decided.set(address, ok);
      return ok;
    },
  };
}
