// Holds the current Snapshot; a change publishes a new snapshot with a new version (readers never wait).
import { createSnapshot } from './snapshot.js';
import type { CatalogInput, Snapshot } from './types.js';

export interface CatalogStore {
  /** The current snapshot: a synchronous read, safe on the hot path. */
  current(): Snapshot;
  /** Replace the whole catalog; returns the new snapshot. */
  publish(input: CatalogInput): Snapshot;
}

export function createCatalogStore(initial: CatalogInput): CatalogStore {
  let snapshot = createSnapshot(initial, 1);
  return {
    current: () => snapshot,
    publish(input) {
      snapshot = createSnapshot(input, snapshot.version + 1);
      return snapshot;
    },
  };
}
