// What a lookup needs to build its answer: the question, the catalog, the options and the zone it is in.
import type { Query, Rr } from '../dns/records.js';
import type { Snapshot } from '../catalog/types.js';
import type { ResolveContext } from './types.js';

export interface Env {
  /** The question being answered; `query.name` owns the answer records. */
  readonly query: Query;
  readonly snapshot: Snapshot;
  readonly ctx: ResolveContext;
  /** The zone the question used (lower-case FQDN); generated names and the SOA live in it. */
  readonly zone: string;
  /** Lower-case datacenter for generated names. */
  readonly dc: string;
  /** True while resolving a CNAME/SRV target for another answer: no count limits apply. */
  readonly internal: boolean;
  /** A/AAAA records of an in-zone hostname (FQDN), owned by that hostname; [] outside our zones, in a loop or too deep. */
  readonly chase: (hostname: string) => readonly Rr[];
}
