// Refuses a recursor that is our own DNS listener: every forwarded query would come back to us, forever.
import type os from 'node:os';
import { ConfigError, ErrorCode } from '../errors.js';
import { canonicalIp, ipFamily } from '../net/addr.js';
import type { Upstream } from './types.js';
import { isLoopback, isWildcard } from './values.js';

/** A configured recursor and where it was written (`recursors[1]` in a file, `--recursor` for the flag). */
export interface RecursorOrigin {
  readonly upstream: Upstream;
  readonly file: string;
  readonly key: string;
}

export interface DnsListener {
  readonly addresses: readonly string[];
  /** 0 = an ephemeral port, which no recursor can name in advance. */
  readonly port: number;
}

/** This host's own addresses, which a wildcard listener also answers on. */
function localAddresses(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(interfaces)) {
    for (const i of list ?? []) out.add(canonicalIp(i.address) ?? i.address);
  }
  return out;
}

function reachesListener(address: string, listener: DnsListener, local: () => Set<string>): boolean {
  const target = canonicalIp(address) ?? address;
  return listener.addresses.some((own) => {
    if ((canonicalIp(own) ?? own) === target) return true;
    if (!isWildcard(own)) return false;
    // 0.0.0.0 takes IPv4 only; "::" takes IPv6 and, dual-stack (Linux's default), IPv4 as well.
    if (ipFamily(own) === 4 && ipFamily(target) !== 4) return false;
    return isLoopback(target) || local().has(target);
  });
}

/** Throws CONFIG_VALUE at the first recursor that would send our own queries back to us. */
export function checkRecursorLoops(
  recursors: readonly RecursorOrigin[],
  listener: DnsListener,
  interfaces: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>,
): void {
  if (listener.port === 0) return;
  let local: Set<string> | undefined;
  const own = (): Set<string> => (local ??= localAddresses(interfaces()));
  for (const r of recursors) {
    if (r.upstream.port !== listener.port || !reachesListener(r.upstream.address, listener, own)) continue;
    const where = listener.addresses.map((a) => (a.includes(':') ? `[${a}]:${listener.port}` : `${a}:${listener.port}`)).join(', ');
    throw new ConfigError(ErrorCode.CONFIG_VALUE, { file: r.file, key: r.key },
      `is this server's own DNS listener (${where}): forwarding to it would loop`);
  }
}
