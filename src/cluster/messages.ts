// The IPC protocol between the primary and its DNS workers: every message as a tagged, plain-data value.
import type { RegistryOp } from '../catalog/registry.js';
import type { Config } from '../config/types.js';
import type { DnsEndpoint } from '../dns/server.js';
import type { MetricsBatch } from './metrics-relay.js';
import type { MirrorState } from './mirror.js';

/** Primary → worker. `index` is the primary registry's index once the state or op is applied. */
export type ToWorker =
  | {
    readonly t: 'init'; readonly config: Config; readonly state: MirrorState; readonly index: number; readonly port: number;
    /** Whether to record metrics and ship them (the primary has a real sink). */
    readonly metrics: boolean;
  }
  | { readonly t: 'op'; readonly op: RegistryOp; readonly index: number }
  | { readonly t: 'config'; readonly config: Config }
  | { readonly t: 'status'; readonly id: number }
  | { readonly t: 'stop' };

/** Worker → primary. */
export type FromWorker =
  /** The worker listens for messages; the primary answers with `init`. */
  | { readonly t: 'hello' }
  | { readonly t: 'listening'; readonly endpoints: readonly DnsEndpoint[] }
  | { readonly t: 'failed'; readonly code: string; readonly message: string }
  | { readonly t: 'status'; readonly id: number; readonly pid: number; readonly version: number; readonly queries: number }
  | { readonly t: 'metrics'; readonly batch: MetricsBatch };

const TO_WORKER = new Set(['init', 'op', 'config', 'status', 'stop']);
const FROM_WORKER = new Set(['hello', 'listening', 'failed', 'status', 'metrics']);

function tagOf(m: unknown): unknown {
  return typeof m === 'object' && m !== null ? (m as { t?: unknown }).t : undefined;
}

/** Our messages share the channel with cluster's own (NODE_CLUSTER) and anything else a user sends. */
export function isToWorker(m: unknown): m is ToWorker {
  const t = tagOf(m);
  return typeof t === 'string' && TO_WORKER.has(t);
}

export function isFromWorker(m: unknown): m is FromWorker {
  const t = tagOf(m);
  return typeof t === 'string' && FROM_WORKER.has(t);
}

/** The environment variable that marks a process forked by the pool (cluster.isWorker alone is any cluster). */
export const WORKER_ENV = 'CONNECT_DNS_WORKER';
