// Which instances a service lookup returns: health filter (Consul's CheckServiceNodes.Filter) and shuffle.
import type { InstanceView } from '../catalog/types.js';

/** Drops critical instances, and warning ones too with only_passing; instances without checks are passing. */
export function filterHealthy(views: readonly InstanceView[], onlyPassing: boolean): InstanceView[] {
  return views.filter((v) => v.status === 'passing' || (!onlyPassing && v.status === 'warning'));
}

/** Fisher-Yates with the injected source, so tests can seed it; returns a new array. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}
