// The contract of the health runner (src/health/), used by the API and the composition root.
import type { HealthStatus } from '../config/types.js';

export interface HealthRunner {
  /**
   * A TTL check's pass/warn/fail/update from the API: sets status and output and restarts its TTL.
   * False when there is no TTL check with that ID on that node.
   */
  updateTtl(node: string, checkId: string, status: HealthStatus, output?: string): boolean;
  /** Runs a check now (e.g. a proxy's listening check right after the proxy started); false if unknown. */
  runNow(node: string, checkId: string): boolean;
  close(): Promise<void>;
}
