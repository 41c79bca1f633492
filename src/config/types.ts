// The validated, merged configuration every other module reads; produced only by src/config/.
import type { ConfigLocation } from '../errors.js';

export type HealthStatus = 'passing' | 'warning' | 'critical';

export interface SoaConfig {
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  /** Seconds; also the SOA RR's own TTL and the negative-answer TTL. */
  readonly minTtl: number;
}

export interface DnsConfig {
  /** Seconds. */
  readonly nodeTtl: number;
  /** Seconds by service name (lower-cased keys); `*` default; keys ending in `*` are prefixes. */
  readonly serviceTtl: Readonly<Record<string, number>>;
  readonly udpAnswerLimit: number;
  readonly aRecordLimit: number;
  readonly enableTruncate: boolean;
  readonly onlyPassing: boolean;
  /** Milliseconds, per upstream try. */
  readonly recursorTimeout: number;
  readonly recursorStrategy: 'sequential' | 'random';
  readonly disableCompression: boolean;
  readonly enableAdditionalNodeMetaTxt: boolean;
  readonly soa: SoaConfig;
  /** Our own advertised EDNS UDP payload size (default 1232). */
  readonly udpPayloadSize: number;
  /** The cache of forwarded answers (dns_config.forward_cache); TTLs in seconds. */
  readonly forwardCache: {
    readonly enabled: boolean;
    /** Entries at most. */
    readonly size: number;
    /** Positive answers are kept at most this long, whatever their TTL. */
    readonly maxTtl: number;
    /** NXDOMAIN/NODATA are kept for the SOA minimum (RFC 2308), at most this long. */
    readonly negativeTtl: number;
  };
  /**
   * Clients that may use forwarding (dns_config.recursion_allow): canonical CIDRs ("10.0.0.0/8", "fc00::/7").
   * Others get REFUSED for names outside our zones and normal answers inside them.
   */
  readonly recursionAllow: readonly string[];
  /** Response rate limiting (dns_config.rate_limit); off when responsesPerSecond is 0 (the default). */
  readonly rateLimit: RateLimitConfig;
  /** Limits of the TCP listeners (dns_config.tcp); durations in milliseconds. */
  readonly tcp: TcpConfig;
  /** Per-upstream health (dns_config.recursor_health); durations in milliseconds. */
  readonly recursorHealth: RecursorHealthConfig;
  /** RFC 8767 serve-stale from the forward cache (dns_config.serve_stale); seconds. */
  readonly serveStale: ServeStaleConfig;
}

export interface RateLimitConfig {
  /** Responses per second per client network; 0 = rate limiting off. */
  readonly responsesPerSecond: number;
  /** Responses a network may send in a burst above the rate (default = responsesPerSecond). */
  readonly burst: number;
  /** Every slip-th limited UDP response is sent as an empty TC=1 reply instead of dropped; 0 = drop all. */
  readonly slip: number;
  /** Clients are grouped by this prefix: /24 for IPv4 and /56 for IPv6 by default. */
  readonly ipv4PrefixLength: number;
  readonly ipv6PrefixLength: number;
}

export interface TcpConfig {
  readonly maxConnections: number;
  /** Close a connection that delivers no complete message for this long (ms). */
  readonly idleTimeout: number;
  /** Stop reading a connection while this many of its queries are unanswered. */
  readonly maxInFlight: number;
  /** A started message must be complete within this long (ms), whatever trickles in (slowloris). */
  readonly messageTimeout: number;
}

export interface RecursorHealthConfig {
  /** Consecutive failed tries after which an upstream is marked down. */
  readonly maxFailures: number;
  /** First wait (ms) before a down upstream is probed again; doubles per failed probe. */
  readonly probeInterval: number;
  /** Longest wait (ms) between probes. */
  readonly maxProbeInterval: number;
}

export interface ServeStaleConfig {
  readonly enabled: boolean;
  /** How long past expiry (s) an answer may still be served when every upstream fails. */
  readonly maxStale: number;
  /** TTL (s) written into stale answers (RFC 8767 suggests 30). */
  readonly ttl: number;
}

export interface Upstream {
  readonly address: string;
  readonly port: number;
}

export interface CheckDefinition {
  readonly id?: string;
  readonly name?: string;
  /** Set for service checks declared at top level or on a node; service-embedded checks get it filled in. */
  readonly serviceId?: string;
  readonly ttl?: number; // ms
  readonly http?: string;
  readonly tcp?: string;
  readonly args?: readonly string[];
  readonly interval?: number; // ms
  readonly timeout?: number; // ms
  readonly status?: HealthStatus;
  readonly notes?: string;
  readonly method?: string;
  readonly header?: Readonly<Record<string, readonly string[]>>;
  readonly tlsSkipVerify?: boolean;
  readonly deregisterCriticalServiceAfter?: number; // ms
  readonly source: ConfigLocation;
}

export interface ProxyConfig {
  readonly destinationServiceName?: string;
  readonly destinationServiceId?: string;
  readonly localServiceAddress?: string;
  readonly localServicePort?: number;
  readonly config?: Readonly<Record<string, unknown>>;
  readonly upstreams?: readonly Readonly<Record<string, unknown>>[];
}

export interface ManagedProxyDefinition {
  readonly execMode?: 'daemon' | 'script';
  readonly command?: readonly string[];
  readonly config?: Readonly<Record<string, unknown>>;
}

export interface ServiceDefinition {
  readonly id?: string;
  readonly name: string;
  readonly tags: readonly string[];
  /** '' = use the node's address. */
  readonly address: string;
  readonly port?: number;
  readonly meta: Readonly<Record<string, string>>;
  readonly weights?: { readonly passing: number; readonly warning: number };
  readonly kind: 'typical' | 'connect-proxy';
  /** 1.2 spelling; merged with proxy.destinationServiceName by the catalog builder. */
  readonly proxyDestination?: string;
  readonly proxy?: ProxyConfig;
  readonly connect?: {
    readonly native?: boolean;
    readonly proxy?: ManagedProxyDefinition;
    /** A sidecar definition: every ServiceDefinition field optional. */
    readonly sidecarService?: Partial<Omit<ServiceDefinition, 'source'>> & { readonly source: ConfigLocation };
  };
  readonly checks: readonly CheckDefinition[];
  readonly enableTagOverride?: boolean;
  readonly source: ConfigLocation;
}

export interface NodeDefinition {
  readonly node: string;
  readonly address: string;
  readonly meta: Readonly<Record<string, string>>;
  readonly services: readonly ServiceDefinition[];
  /** Checks without serviceId are node checks. */
  readonly checks: readonly CheckDefinition[];
  readonly source: ConfigLocation;
}

/** A prepared query as written in a config file or sent to /v1/query (durations already in seconds). */
export interface PreparedQueryDefinition {
  readonly id?: string;
  readonly name: string;
  readonly token?: string;
  readonly service: {
    readonly service: string;
    readonly tags?: readonly string[];
    readonly onlyPassing?: boolean;
    readonly near?: string;
    readonly connect?: boolean;
    readonly ignoreCheckIds?: readonly string[];
    readonly nodeMeta?: Readonly<Record<string, string>>;
    readonly serviceMeta?: Readonly<Record<string, string>>;
    readonly failover?: { readonly nearestN?: number; readonly datacenters?: readonly string[] };
  };
  readonly dns?: { readonly ttl?: number };
  readonly source: ConfigLocation;
}

export interface ProxyDefaults {
  readonly execMode?: 'daemon' | 'script';
  readonly daemonCommand?: readonly string[];
  readonly scriptCommand?: readonly string[];
  readonly command?: readonly string[];
  readonly config: Readonly<Record<string, unknown>>;
}

export interface Config {
  readonly datacenter: string;
  readonly nodeName: string;
  readonly nodeMeta: Readonly<Record<string, string>>;
  /** Lower-cased FQDN, e.g. "consul." */
  readonly domain: string;
  readonly altDomain?: string;
  readonly recursors: readonly Upstream[];
  /** Addresses the DNS listeners bind (addresses.dns, else client_addr; may be several). */
  readonly dnsAddresses: readonly string[];
  readonly clientAddresses: readonly string[];
  readonly advertiseAddr: string;
  /** 0 = pick a free port. */
  readonly dnsPort: number;
  readonly ports: {
    readonly proxyMinPort: number;
    readonly proxyMaxPort: number;
    readonly sidecarMinPort: number;
    readonly sidecarMaxPort: number;
  };
  readonly dns: DnsConfig;
  readonly connect: {
    readonly enabled: boolean;
    readonly allowManagedRoot: boolean;
    readonly allowManagedApiRegistration: boolean;
    readonly proxyDefaults: ProxyDefaults;
  };
  /** Services on the local node. */
  readonly services: readonly ServiceDefinition[];
  /** Checks on the local node (node checks, or service checks with serviceId). */
  readonly checks: readonly CheckDefinition[];
  readonly nodes: readonly NodeDefinition[];
  /** The HTTP API: port -1 = disabled; addresses default to the client addresses. */
  readonly http: { readonly port: number; readonly addresses: readonly string[] };
  /** With a data dir, API state, TTL check states, prepared queries and proxy ports persist there. */
  readonly dataDir?: string;
  /** Script checks (`args`) run only when this is set (enable_script_checks / enable_local_script_checks). */
  readonly enableScriptChecks: boolean;
  /** acl.tokens.master / acl_master_token / --api-token: API writes need it when set. */
  readonly apiToken?: string;
  /** Prepared queries declared in config files (connect-dns extension `prepared_queries`). */
  readonly preparedQueries: readonly PreparedQueryDefinition[];
  /** DNS worker processes sharing the ports (Node's cluster); 1 = answer in the main process. */
  readonly workers: number;
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  readonly logFormat: 'json' | 'pretty';
  /** Keys Consul accepts that this server does not use yet (dotted paths), for one warning. */
  readonly ignoredKeys: readonly string[];
  /** Files read, in order. */
  readonly files: readonly string[];
}
