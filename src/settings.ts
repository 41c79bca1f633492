// How a Config becomes the DNS path's settings: resolver context, encoder options, forwarder. Shared by the
// main process and the worker processes so both answer alike.
import type { Logger } from 'pino';
import type { Config } from './config/types.js';
import type { EncodeOptions } from './dns/codec.js';
import type { TcpLimits } from './dns/tcp-server.js';
import { createForwarder, type Forwarder } from './forward/forwarder.js';
import { createGuard, guardKey, type Guard } from './guard/guard.js';
import type { DnsMetrics } from './metrics/types.js';
import type { ResolveContext } from './resolve/types.js';

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

export function toTcpLimits(config: Config): TcpLimits {
  const t = config.dns.tcp;
  return { idleTimeoutMs: t.idleTimeout, maxConnections: t.maxConnections, maxInFlightPerConnection: t.maxInFlight, messageTimeoutMs: t.messageTimeout };
}

/** recursion_allow and rate_limit as the router applies them; a fresh rate limiter (empty buckets). */
export function toGuard(config: Config): Guard {
  return createGuard(config.dns);
}

/** The guard to serve `next` with: `current` when nothing it was built from changed, so buckets carry over a reload. */
export function nextGuard(current: Guard, prev: Config, next: Config): Guard {
  return guardKey(prev.dns) === guardKey(next.dns) ? current : toGuard(next);
}

/** What decides a forwarder's behaviour: a reload that changes none of it keeps the forwarder (cache, health). */
export function forwarderKey(c: Config): string {
  return JSON.stringify([c.recursors, c.dns.recursorTimeout, c.dns.recursorStrategy, c.dns.udpPayloadSize,
    c.dns.forwardCache, c.dns.recursorHealth, c.dns.serveStale, c.domain, c.altDomain]);
}

/** The forwarder for `config`, or none without recursors. Call its loopCheck() once the DNS listeners are up. */
export function createForwarderFor(config: Config, logger: Logger, metrics: DnsMetrics): Forwarder | undefined {
  if (config.recursors.length === 0) return undefined;
  const { enabled, ...cache } = config.dns.forwardCache;
  const h = config.dns.recursorHealth;
  const stale = config.dns.serveStale;
  return createForwarder({
    cache: enabled ? cache : false,
    health: { maxFailures: h.maxFailures, probeIntervalMs: h.probeInterval, maxProbeIntervalMs: h.maxProbeInterval },
    serveStale: stale.enabled ? { maxStale: stale.maxStale, ttl: stale.ttl } : false,
    loopCheck: true,
    metrics,
    upstreams: config.recursors,
    timeoutMs: config.dns.recursorTimeout,
    strategy: config.dns.recursorStrategy,
    zones: config.altDomain ? [config.domain, config.altDomain] : [config.domain],
    udpPayloadSize: config.dns.udpPayloadSize,
    logger: logger.child({ component: 'forward' }),
  });
}
