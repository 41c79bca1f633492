// The API's dependencies and what a route handler gets and returns.
import type { Logger } from 'pino';
import type { Registry } from '../catalog/registry.js';
import type { PreparedQuery, Snapshot } from '../catalog/types.js';
import type { Config } from '../config/types.js';
import type { HealthRunner } from '../health/types.js';
import type { ProxyConfigView, ProxySupervisor } from '../proxy/types.js';
import type { QueryResult, QuerySource } from '../resolve/prepared-query-types.js';
import type { MetricsSource } from './routes-metrics.js';

export interface ApiDeps {
  readonly registry: Registry;
  /** The current config (it changes on reload). */
  readonly config: () => Config;
  readonly health: HealthRunner;
  readonly proxies: ProxySupervisor;
  /** Durably stores API state; every write endpoint awaits it BEFORE answering 200. Rejects on failure → 500 with the reason. */
  readonly persist: () => Promise<void>;
  /** Pure prepared-query execution (src/resolve/prepared-query.ts). */
  readonly executeQuery: (snapshot: Snapshot, query: PreparedQuery, source: QuerySource) => QueryResult;
  /** The effective config of a managed proxy (src/proxy/config-view.ts). */
  readonly proxyConfig: (snapshot: Snapshot, proxyId: string) => ProxyConfigView | undefined;
  readonly logger: Logger;
  /** Served as Prometheus text at GET /metrics (src/metrics/prometheus.ts); without it /metrics is 404. */
  readonly metrics?: MetricsSource;
}

/** Who is calling, as far as tokens go. */
export type Caller =
  | { readonly kind: 'master' }
  | { readonly kind: 'proxy'; readonly proxyId: string }
  | { readonly kind: 'anonymous' };

export interface RouteContext {
  readonly deps: ApiDeps;
  /** Path parameters, already percent-decoded. */
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  /** The decoded JSON body (undefined when empty); rejects with a 400/413 CdnsError. */
  body(): Promise<unknown>;
  readonly clientIp: string;
  readonly caller: Caller;
  /** Aborted when the client goes away or the server closes. */
  readonly signal: AbortSignal;
}

export interface Reply {
  readonly status?: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Handler = (ctx: RouteContext) => Reply | Promise<Reply>;

/** What a route needs from the caller: `read` is anonymous, `write` needs the master token when one is set. */
export type Access = 'read' | 'write' | 'proxy-config';

export interface Route {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Segments after /v1/; ':' is one parameter, '*' the rest of the path (may contain '/'). */
  readonly path: string;
  readonly access: Access;
  readonly handler: Handler;
  /** GETs block on ?index= unless they handle waiting themselves. */
  readonly blocking?: boolean;
}
