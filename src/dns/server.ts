// The DNS listeners: UDP and TCP on every configured address, all on one port number.
import net from 'node:net';
import type { Logger } from 'pino';
import { CdnsError, ErrorCode } from '../errors.js';
import type { Transport } from './records.js';
import { createTcpListener, DEFAULT_TCP_LIMITS, type TcpLimits } from './tcp-server.js';
import { createUdpListener } from './udp-server.js';

/** null = send nothing. A throw or a rejection is logged and answered with nothing. */
export type QueryHandler = (raw: Buffer, proto: Transport, client: { address: string; port: number })
  => Buffer | null | Promise<Buffer | null>;

export interface DnsServerOptions {
  /** IPv4 or IPv6 literals; each gets UDP and TCP on the same port. */
  readonly addresses: readonly string[];
  /** 0 = a free port chosen on the first address, then used for every other listener. */
  readonly port: number;
  readonly handler: QueryHandler;
  readonly logger: Logger;
  readonly tcp?: Partial<TcpLimits>;
}

export interface DnsEndpoint {
  readonly proto: Transport;
  readonly address: string;
  readonly port: number;
}

export interface DnsServer {
  readonly endpoints: readonly DnsEndpoint[];
  close(): Promise<void>;
}

interface Listener extends DnsEndpoint {
  close(): Promise<void>;
}

/** Attempts at a random port when another process takes it between our UDP and TCP binds. */
const PORT_ATTEMPTS = 5;

async function closeAll(listeners: readonly Listener[]): Promise<void> {
  await Promise.allSettled(listeners.map((l) => l.close()));
}

async function bindAll(opts: DnsServerOptions, limits: TcpLimits): Promise<Listener[]> {
  const listeners: Listener[] = [];
  let port = opts.port;
  try {
    for (const address of opts.addresses) {
      const common = { address, handler: opts.handler, logger: opts.logger };
      const udp = await createUdpListener({ ...common, port });
      listeners.push({ proto: 'udp', ...udp });
      port = udp.port;
      const tcp = await createTcpListener({ ...common, port, limits });
      listeners.push({ proto: 'tcp', ...tcp });
    }
    return listeners;
  } catch (err) {
    await closeAll(listeners);
    throw err;
  }
}

/** Listens on every address (UDP and TCP); rejects with CdnsError(LISTEN) when a bind fails. */
export async function createDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  if (opts.addresses.length === 0) throw new CdnsError(ErrorCode.LISTEN, 'no DNS listen address configured');
  // A host name would make dgram/net resolve it through the system resolver; only literals are bound.
  const notIp = opts.addresses.find((a) => net.isIP(a) === 0);
  if (notIp !== undefined) throw new CdnsError(ErrorCode.LISTEN, `DNS listen address ${JSON.stringify(notIp)} is not an IP literal`);
  const limits: TcpLimits = {
    idleTimeoutMs: opts.tcp?.idleTimeoutMs ?? DEFAULT_TCP_LIMITS.idleTimeoutMs,
    maxConnections: opts.tcp?.maxConnections ?? DEFAULT_TCP_LIMITS.maxConnections,
    maxInFlightPerConnection: opts.tcp?.maxInFlightPerConnection ?? DEFAULT_TCP_LIMITS.maxInFlightPerConnection,
    messageTimeoutMs: opts.tcp?.messageTimeoutMs ?? DEFAULT_TCP_LIMITS.messageTimeoutMs,
  };
  const attempts = opts.port === 0 ? PORT_ATTEMPTS : 1;
  let lastErr: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const listeners = await bindAll(opts, limits);
      let closing: Promise<void> | undefined;
      return {
        endpoints: listeners.map(({ proto, address, port }) => ({ proto, address, port })),
        close: () => (closing ??= closeAll(listeners)),
      };
    } catch (err) {
      lastErr = err;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  const code = (lastErr as NodeJS.ErrnoException).code ?? 'unknown';
  const where = opts.addresses.map((a) => (a.includes(':') ? `[${a}]:${opts.port}` : `${a}:${opts.port}`)).join(', ');
  throw new CdnsError(ErrorCode.LISTEN, `cannot listen for DNS on ${where}: ${code}`, { cause: lastErr });
}
