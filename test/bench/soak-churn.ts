// The soak's catalog churn through the agent API: registrations, deregistrations and TTL check updates at a fixed rate.
import { setTimeout as sleep } from 'node:timers/promises';
import { FLAP_CHECK } from './catalogs.js';
import { CHURN_SERVICE } from './soak-mix.js';

/** Instances of the churned service cycle over this many IDs; about half are registered at any time. */
const SLOTS = 10;

export interface ChurnCounts {
  ok: number;
  failed: number;
  /** The slowest API call so far, in ms (the soak reads and resets it per interval). */
  maxMs: number;
  lastError?: string;
}

export interface ApiChurn {
  readonly counts: ChurnCounts;
  /** Stops the loop and compares the agent's churn instances with what the loop registered. */
  stop(): Promise<{ expected: string[]; listed: string[] | undefined }>;
}

const idOf = (k: number): string => `${CHURN_SERVICE}-${k}`;

/**
 * Four steps per slot, `perSecond` steps a second: register churn-k with a TTL check, warn that check, flip the
 * configured flapper check, deregister the instance registered five slots ago. Bounded by `maxSeconds`.
 */
export function startApiChurn(httpPort: number, perSecond: number, maxSeconds: number): ApiChurn {
  const base = `http://127.0.0.1:${httpPort}/v1/agent`;
  const counts: ChurnCounts = { ok: 0, failed: 0, maxMs: 0 };
  const registered = new Set<string>();
  let running = true;
  const call = async (path: string, body?: unknown): Promise<boolean> => {
    const t0 = performance.now();
    try {
      const res = await fetch(`${base}/${path}`, { method: 'PUT', ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      counts.maxMs = Math.max(counts.maxMs, performance.now() - t0);
      if (res.ok) {
        counts.ok++;
        return true;
      }
      counts.failed++;
      counts.lastError = `PUT ${path}: HTTP ${res.status} ${text.slice(0, 200)}`;
    } catch (err) {
      counts.failed++;
      counts.lastError = `PUT ${path}: ${err instanceof Error ? err.message : String(err)}`;
    }
    return false;
  };
  const step = async (i: number): Promise<void> => {
    const k = Math.floor(i / 4) % SLOTS;
    const id = idOf(k);
    switch (i % 4) {
      case 0:
        if (await call('service/register', { ID: id, Name: CHURN_SERVICE, Port: 5000 + k, Check: { CheckID: `${id}-ttl`, TTL: '1h', Status: 'passing' } })) registered.add(id);
        return;
      case 1:
        await call(`check/warn/${encodeURIComponent(`${id}-ttl`)}?note=soak${i}`);
        return;
      case 2:
        await call(`check/${i % 8 === 2 ? 'warn' : 'pass'}/${encodeURIComponent(FLAP_CHECK)}?note=soak${i}`);
        return;
      default: {
        const old = idOf((k + SLOTS / 2) % SLOTS);
        if (!registered.has(old)) await call(`check/pass/${encodeURIComponent(`${id}-ttl`)}`);
        else if (await call(`service/deregister/${encodeURIComponent(old)}`)) registered.delete(old);
      }
    }
  };
  const everyMs = 1000 / perSecond;
  const loop = (async () => {
    const deadline = performance.now() + maxSeconds * 1000;
    let origin = performance.now();
    let slot = 0;
    for (let i = 0; running && performance.now() < deadline; i++) {
      await step(i);
      slot++;
      const wait = origin + slot * everyMs - performance.now();
      // After a stall of the API, start the schedule again rather than burst to catch up.
      if (wait < -1000) {
        origin = performance.now();
        slot = 0;
      } else await sleep(Math.max(0, wait));
    }
  })();
  return {
    counts,
    async stop() {
      running = false;
      await loop;
      let listed: string[] | undefined;
      try {
        const res = await fetch(`${base}/services`, { signal: AbortSignal.timeout(10_000) });
        const services = (await res.json()) as Record<string, { Service?: string }>;
        listed = Object.entries(services).filter(([, s]) => s.Service === CHURN_SERVICE).map(([id]) => id).sort();
      } catch {
        listed = undefined;
      }
      return { expected: [...registered].sort(), listed };
    },
  };
}
