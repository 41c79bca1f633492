// Shared by every write endpoint: persist before answering, so a 200 is never lost by a crash.
import { CdnsError, ErrorCode } from '../errors.js';
import type { ApiDeps, Reply } from './context.js';

/**
 * Awaits the state write covering this change. When it fails (full disk, read-only data dir) the caller gets a
 * 500 naming the file and errno, and the change stays applied, as a Consul agent leaves check updates and
 * deregistrations whose file it could not write. (Consul undoes a failed registration; we cannot: the state
 * file is one snapshot that concurrent callers' changes share, so undoing one would race the others.) The
 * persister writes the whole state again once the disk takes it, and every agent write is safe to retry.
 */
export async function persisted(deps: ApiDeps, body?: unknown): Promise<Reply> {
  try {
    await deps.persist();
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new CdnsError(ErrorCode.PERSIST_FAILED,
      `failed to persist the change: ${detail} (the change is applied in memory; the state file is written again once the data dir accepts it)`,
      { cause: err });
  }
  return { body };
}

export function localNodeName(deps: ApiDeps): string {
  return deps.registry.current().localNode.name;
}
