// Shared by every write endpoint: persist before answering, so a 200 is never lost by a crash.
import { CdnsError, ErrorCode } from '../errors.js';
import type { ApiDeps, Reply } from './context.js';

export async function persisted(deps: ApiDeps, body?: unknown): Promise<Reply> {
  try {
    await deps.persist();
  } catch (err) {
    if (err instanceof CdnsError) throw err;
    throw new CdnsError(ErrorCode.PERSIST_FAILED, `persisting the change failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return { body };
}

export function localNodeName(deps: ApiDeps): string {
  return deps.registry.current().localNode.name;
}
