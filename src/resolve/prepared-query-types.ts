// The contract of prepared-query execution (pure), shared by the DNS `.query` lookup and /v1/query/:id/execute.
import type { InstanceView } from '../catalog/types.js';

export interface QuerySource {
  /** The client's IP (DNS: the query's source; API: the caller's), for Near "_ip". */
  readonly ip?: string;
}

export interface QueryResult {
  /** The datacenter that produced the nodes (always ours: one datacenter, no remote lookups). */
  readonly datacenter: string;
  /** Filtered, shuffled with the given random, Near-sorted. */
  readonly nodes: readonly InstanceView[];
  /** DNS TTL in seconds: the query's DNS.TTL if set, else service_ttl of its service, else 0. */
  readonly ttl: number;
}
