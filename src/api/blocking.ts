// Consul blocking queries: ?index=N&wait=D holds a read while the catalog index is still N.
import type { Registry } from '../catalog/registry.js';
import { parseDuration } from '../config/duration.js';
import { badRequest } from './errors.js';

export const DEFAULT_WAIT_MS = 5 * 60_000;
export const MAX_WAIT_MS = 10 * 60_000;

export interface BlockingParams {
  readonly index: number;
  readonly waitMs: number;
}

/** undefined when the read does not block (no index, or index 0). */
export function parseBlocking(query: URLSearchParams): BlockingParams | undefined {
  const indexText = query.get('index');
  if (indexText === null || indexText === '') return undefined;
  if (!/^\d+$/.test(indexText)) throw badRequest(`Invalid index: "${indexText}"`);
  const index = Number(indexText);
  if (!Number.isSafeInteger(index)) throw badRequest(`Invalid index: "${indexText}"`);
  const waitText = query.get('wait');
  let waitMs = DEFAULT_WAIT_MS;
  if (waitText !== null && waitText !== '') {
    // Go's duration syntax, as Consul parses it: a bare number other than 0 has no unit and is refused.
    const ms = parseDuration(waitText);
    if (ms === undefined || ms < 0) throw badRequest(`Invalid wait time: "${waitText}"`);
    waitMs = Math.min(ms, MAX_WAIT_MS);
  }
  return index === 0 ? undefined : { index, waitMs };
}

/**
 * Waits while the catalog index equals `params.index`. An index ahead of ours (say, from before a restart) is
 * treated as a reset: answer at once, so the watcher picks up the current index instead of hanging.
 */
export async function waitIfBlocking(registry: Registry, params: BlockingParams | undefined, signal: AbortSignal): Promise<void> {
  if (!params || registry.index !== params.index || signal.aborted) return;
  await registry.waitForChange(params.index, params.waitMs, signal);
}
