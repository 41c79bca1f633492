// Composition root: builds the catalog, resolver context, forwarder and listeners from a Config.
import type { Logger } from 'pino';
import { catalogFromConfig } from './catalog/from-config.js';
import { createRegistry, type Registry } from './catalog/registry.js';
import type { Config } from './config/types.js';
import type { EncodeOptions } from './dns/codec.js';
import { createDnsServer, type DnsServer } from './dns/server.js';
import { createForwarder, type Forwarder } from './forward/forwarder.js';
import type { ResolveContext } from './resolve/types.js';
import { createQueryHandler } from './router.js';

export interface RunningServer {
  readonly endpoints: DnsServer['endpoints'];
  readonly registry: Registry;
  close(): Promise<void>;
}

export function toResolveContext(config: Config): ResolveContext {
  return {
    domain: config.domain,
    ...(config.altDomain ? { altDomain: config.altDomain } : {}),
    recursors: config.recursors.length > 0,
    dns: config.dns,
    now: () => Math.floor(Date.now() / 1000),
    random: Math.random,
  };
}

export function toEncodeOptions(config: Config): EncodeOptions {
  return {
    ra: config.recursors.length > 0,
    compress: !config.dns.disableCompression,
    udpPayloadSize: config.dns.udpPayloadSize,
  };
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const registry = createRegistry(catalogFromConfig(config));
  let forwarder: Forwarder | undefined;
  if (config.recursors.length > 0) {
    forwarder = createForwarder({
      upstreams: config.recursors,
      timeoutMs: config.dns.recursorTimeout,
      strategy: config.dns.recursorStrategy,
      zones: config.altDomain ? [config.domain, config.altDomain] : [config.domain],
      udpPayloadSize: config.dns.udpPayloadSize,
      logger: logger.child({ component: 'forward' }),
    });
  }
  const handler = createQueryHandler({
    snapshot: registry.current,
    context: toResolveContext(config),
    encode: toEncodeOptions(config),
    ...(forwarder ? { forwarder } : {}),
    logger: logger.child({ component: 'dns' }),
  });
  let dns: DnsServer;
  try {
    dns = await createDnsServer({ addresses: [...config.dnsAddresses], port: config.dnsPort, handler, logger });
  } catch (err) {
    await forwarder?.close();
    throw err;
  }
  const snap = registry.current();
  logger.info(
    {
      dns: dns.endpoints.map((e) => `${e.proto}://${formatHostPort(e.address, e.port)}`),
      domain: config.domain,
      altDomain: config.altDomain,
      datacenter: config.datacenter,
      node: config.nodeName,
      recursors: config.recursors.map((r) => formatHostPort(r.address, r.port)),
      services: snap.instances().length,
      nodes: snap.nodes().length,
    },
    `serving DNS on ${dns.endpoints.map((e) => `${e.proto} ${formatHostPort(e.address, e.port)}`).join(', ')}`,
  );
  const managed = snap.instances().filter((v) => v.instance.managed && v.node.name === snap.localNode.name);
  if (managed.length > 0) {
    // Say it once at start: otherwise a user wonders why `.connect` leaves these proxies out.
    logger.warn(
      { proxies: managed.map((v) => `${v.instance.id}:${v.instance.port}`) },
      'managed proxies are registered, but this version neither starts them nor runs their listening checks; they stay critical and out of .connect answers',
    );
  }
  let closing: Promise<void> | undefined;
  return {
    endpoints: dns.endpoints,
    registry,
    close() {
      closing ??= (async () => {
        await dns.close();
        await forwarder?.close();
        logger.info('stopped');
      })();
      return closing;
    },
  };
}

export function formatHostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
