// The health runner: follows the registry, keeps one task per runnable check, and writes statuses back.
import type { Logger } from 'pino';
import type { Registry, RegistryOp } from '../catalog/registry.js';
import { checkKey, snapshotLinks } from '../catalog/snapshot.js';
import type { Check, HealthStatus } from '../catalog/types.js';
import { createCheckTask, type CheckTask, type TaskHooks } from './check-task.js';
import type { HealthRunner } from './types.js';

export interface HealthRunnerOptions {
  readonly registry: Registry;
  readonly logger: Logger;
  /** Read at every script run: the config can change on reload. */
  readonly enableScriptChecks: () => boolean;
  /** For tests; default Math.random (the first-run stagger). */
  readonly random?: () => number;
}

/** Same check as far as running it goes: a changed definition, type or owner restarts its task. */
function sameDefinition(a: Check, b: Check): boolean {
  if (a.definition === b.definition) return a.type === b.type && a.serviceId === b.serviceId;
  return a.type === b.type && a.serviceId === b.serviceId && JSON.stringify(a.definition) === JSON.stringify(b.definition);
}

export function createHealthRunner(opts: HealthRunnerOptions): HealthRunner {
  const { registry, logger } = opts;
  const tasks = new Map<string, CheckTask>();
  const stopping = new Set<Promise<void>>();
  let closed = false;
  /** True while we record a result of our own: its op needs no follow-up here. */
  let updatingOwn = false;
  let scriptWarned = false;
  /** The status the catalog holds for each check, kept current without walking the snapshot. */
  const statuses = new Map<string, HealthStatus>();
  /** The definition object last seen per check (a reload brings equal but new objects; compare those once). */
  const definitions = new Map<string, Check['definition']>();

  const hooks: TaskHooks = {
    update(check, status, output) {
      const key = checkKey(check.node, check.id);
      const before = statuses.get(key);
      updatingOwn = true;
      let known = false;
      try {
        known = registry.updateCheck(check.node, check.id, { status, output });
      } catch (err) {
        logger.error({ err, node: check.node, check: check.id }, 'could not record a check status');
      } finally {
        updatingOwn = false;
      }
      if (!known) return;
      statuses.set(key, status);
      if (before !== status) {
        logger.info({ node: check.node, check: check.id, service: check.serviceId || undefined, output }, `check ${before ?? 'unknown'} -> ${status}`);
      } else {
        logger.debug({ node: check.node, check: check.id, status }, 'check ran');
      }
    },
    reap(check) {
      logger.warn(
        { node: check.node, check: check.id, service: check.serviceId, after: check.definition.deregisterCriticalServiceAfter },
        'check critical for longer than deregister_critical_service_after, deregistering its service',
      );
      registry.deregisterService(check.node, check.serviceId);
    },
    enableScriptChecks: opts.enableScriptChecks,
    scriptSkipped(check) {
      if (scriptWarned) return;
      scriptWarned = true;
      logger.warn({ node: check.node, check: check.id }, 'script checks are disabled (enable_script_checks); script checks keep their status');
    },
    random: opts.random ?? Math.random,
  };

  function stopTask(key: string, task: CheckTask): void {
    tasks.delete(key);
    statuses.delete(key);
    definitions.delete(key);
    const p = task.stop().finally(() => stopping.delete(p));
    stopping.add(p);
  }

  /** Brings one check's task in line with the catalog's check (starting, keeping or restarting it). */
  function follow(check: Check): string {
    const key = checkKey(check.node, check.id);
    const task = tasks.get(key);
    statuses.set(key, check.status);
    // Identity first: status updates keep the definition object, so the common case costs no comparison.
    const same = task !== undefined && (definitions.get(key) === check.definition
      ? task.check.type === check.type && task.check.serviceId === check.serviceId
      : sameDefinition(task.check, check));
    if (task && same) {
      definitions.set(key, check.definition);
      task.observe(check.status);
      return key;
    }
    if (task) stopTask(key, task);
    definitions.set(key, check.definition);
    statuses.set(key, check.status);
    tasks.set(key, createCheckTask(check, hooks));
    return key;
  }

  /** Every check: at start, and after a reload or a restore (which replace the catalog wholesale). */
  function sync(): void {
    if (closed) return;
    const seen = new Set<string>();
    for (const check of registry.current().checks()) seen.add(follow(check));
    for (const [key, task] of tasks) if (!seen.has(key)) stopTask(key, task);
  }

  /** The checks of one node: a registration or removal there costs O(that node), not O(catalog). */
  function syncNode(node: string): void {
    if (closed) return;
    const seen = new Set<string>();
    for (const check of snapshotLinks(registry.current()).checksOnNode(node)) seen.add(follow(check));
    const prefix = `${node.toLowerCase()}\u0000`;
    for (const [key, task] of tasks) if (key.startsWith(prefix) && !seen.has(key)) stopTask(key, task);
  }

  function onOp(op: RegistryOp): void {
    switch (op.kind) {
      case 'updateCheck': {
        if (updatingOwn) return; // our own result: the task already knows it
        const key = checkKey(op.node, op.id);
        statuses.set(key, op.update.status);
        tasks.get(key)?.observe(op.update.status);
        return;
      }
      case 'registerService': return syncNode(op.service.node);
      case 'deregisterService':
      case 'deregisterCheck': return syncNode(op.node);
      case 'registerCheck': return syncNode(op.check.node);
      case 'registerNode': return syncNode(op.node.name);
      case 'deregisterNode': return syncNode(op.name);
      case 'setPreparedQuery':
      case 'deletePreparedQuery': return;
      case 'replaceConfig':
      case 'restoreState': return sync();
    }
  }

  const unsubscribe = registry.subscribeOps(onOp);
  sync();

  return {
    updateTtl(node, checkId, status, output) {
      const task = tasks.get(checkKey(node, checkId));
      if (!task || task.check.type !== 'ttl') return false;
      task.ttlUpdate(status, output ?? '');
      return true;
    },
    runNow(node, checkId) {
      const task = tasks.get(checkKey(node, checkId));
      if (!task) return false;
      task.runNow();
      return true;
    },
    async close() {
      if (!closed) {
        closed = true;
        unsubscribe();
        for (const [key, task] of [...tasks]) stopTask(key, task);
      }
      while (stopping.size > 0) await Promise.all([...stopping]);
    },
  };
}
