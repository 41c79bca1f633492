// The service model: nodes, service instances, checks, and the read-only Snapshot queries read.
import type { HealthStatus } from '../config/types.js';

export type { HealthStatus };

export interface CatalogNode {
  readonly name: string;
  /** An IPv4/IPv6 literal or a hostname. */
  readonly address: string;
  readonly datacenter: string;
  readonly meta: Readonly<Record<string, string>>;
}

export interface ProxyInfo {
  readonly destinationServiceName: string;
  readonly destinationServiceId?: string;
  readonly localServiceAddress?: string;
  readonly localServicePort?: number;
  readonly config: Readonly<Record<string, unknown>>;
  readonly upstreams: readonly Readonly<Record<string, unknown>>[];
}

export interface ManagedInfo {
  /** 'managed' = connect.proxy (Consul 1.2 managed proxy), 'sidecar' = connect.sidecar_service. */
  readonly type: 'managed' | 'sidecar';
  readonly targetServiceId: string;
  readonly execMode?: 'daemon' | 'script';
  readonly command?: readonly string[];
}

export interface ServiceInstance {
  readonly id: string;
  /** The service name as registered (case kept). */
  readonly service: string;
  readonly node: string;
  readonly kind: 'typical' | 'connect-proxy';
  readonly tags: readonly string[];
  /** '' = the node's address. */
  readonly address: string;
  readonly port: number;
  readonly meta: Readonly<Record<string, string>>;
  readonly weights: { readonly passing: number; readonly warning: number };
  readonly connectNative: boolean;
  readonly proxy?: ProxyInfo;
  readonly managed?: ManagedInfo;
}

export type CheckType = 'ttl' | 'http' | 'tcp' | 'script' | 'static';

export interface Check {
  readonly id: string;
  readonly name: string;
  readonly node: string;
  /** '' for node checks. */
  readonly serviceId: string;
  readonly serviceName: string;
  readonly status: HealthStatus;
  readonly notes: string;
  readonly output: string;
  readonly type: CheckType;
  readonly definition: {
    readonly ttl?: number;
    readonly http?: string;
    readonly tcp?: string;
    readonly args?: readonly string[];
    readonly interval?: number;
    readonly timeout?: number;
    readonly method?: string;
    readonly header?: Readonly<Record<string, readonly string[]>>;
    readonly tlsSkipVerify?: boolean;
    readonly deregisterCriticalServiceAfter?: number;
  };
}

/** A prepared query (Consul's /v1/query shape, semantics reference §10); durations in seconds. */
export interface PreparedQuery {
  readonly id: string;
  readonly name: string;
  readonly token?: string;
  readonly service: {
    readonly service: string;
    /** All must be present; a leading "!" means must be absent; case-insensitive. */
    readonly tags: readonly string[];
    readonly onlyPassing: boolean;
    /** "" | "_agent" | "_ip" | a node name. */
    readonly near: string;
    readonly connect: boolean;
    readonly ignoreCheckIds: readonly string[];
    readonly nodeMeta: Readonly<Record<string, string>>;
    readonly serviceMeta: Readonly<Record<string, string>>;
    readonly failover: { readonly nearestN: number; readonly datacenters: readonly string[] };
  };
  readonly dns: { readonly ttl?: number };
  readonly createIndex: number;
  readonly modifyIndex: number;
}

/** One instance with its node and the checks that apply to it (node checks + its own). */
export interface InstanceView {
  readonly instance: ServiceInstance;
  readonly node: CatalogNode;
  readonly checks: readonly Check[];
  /** Worst status over `checks`; 'passing' when there are none. */
  readonly status: HealthStatus;
}

export interface CatalogInput {
  readonly datacenter: string;
  readonly localNode: CatalogNode;
  readonly nodes: readonly CatalogNode[];
  readonly services: readonly ServiceInstance[];
  readonly checks: readonly Check[];
  readonly preparedQueries?: readonly PreparedQuery[];
}

export interface Snapshot {
  /** Increases with every change; also the X-Consul-Index of API replies. */
  readonly version: number;
  readonly datacenter: string;
  readonly localNode: CatalogNode;
  /** Instances named `name` (case-insensitive), optionally having `tag` (case-insensitive), in catalog order. */
  serviceInstances(name: string, tag?: string): readonly InstanceView[];
  /** Connect-capable endpoints for a destination: connect-proxies whose destination is `name`, plus natives named `name`. */
  connectEndpoints(name: string): readonly InstanceView[];
  /** Node by name (case-insensitive). */
  node(name: string): CatalogNode | undefined;
  nodes(): readonly CatalogNode[];
  /** Nodes whose address equals `ip` (canonical text form), in catalog order. */
  nodesByAddress(ip: string): readonly CatalogNode[];
  /** Instances whose own service address equals `ip` (canonical text form), in catalog order. */
  instancesByAddress(ip: string): readonly InstanceView[];
  /** Every instance (for the API and tests). */
  instances(): readonly InstanceView[];
  checks(): readonly Check[];
  /** A prepared query by ID, else by exact name (case-insensitive). */
  preparedQuery(idOrName: string): PreparedQuery | undefined;
  preparedQueries(): readonly PreparedQuery[];
}
