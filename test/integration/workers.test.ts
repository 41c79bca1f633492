// --workers: two DNS worker processes on one port, kept in step with the primary's catalog, replaced when killed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { startWorkers, type WorkerPool } from '../../src/cluster/pool.js';
import { noopMetrics, type DnsMetrics } from '../../src/metrics/types.js';
import { httpJson, REFERENCE_DIR, startApi, type ApiHarness } from '../helpers/api-harness.js';
import { buildQuery, parseReply, sendTcp, sendUdp } from '../helpers/dns-client.js';
import { createLogSink, type LogSink } from '../helpers/log-sink.js';
import { eventually } from '../helpers/wait.js';

const WORKER_ENTRY = fileURLToPath(new URL('../../src/cluster/worker-entry.ts', import.meta.url));
const POOL_MODULE = pathToFileURL(fileURLToPath(new URL('../../src/cluster/pool.ts', import.meta.url))).href;
const HARNESS_MODULE = pathToFileURL(fileURLToPath(new URL('../helpers/api-harness.ts', import.meta.url))).href;
const TSX = ['--import', 'tsx'];

interface Rig {
  readonly api: ApiHarness;
  readonly pool: WorkerPool;
  readonly logs: LogSink;
  readonly port: number;
}

async function rig(t: TestContext): Promise<Rig> {
  const api = await startApi({ dirs: [REFERENCE_DIR], patch: (c) => ({ ...c, logLevel: 'warn' }) });
  t.after(() => api.close());
  const logs = createLogSink('info');
  const pool = await startWorkers({
    count: 2, config: api.config, registry: api.registry, logger: logs.logger, exec: { file: WORKER_ENTRY, execArgv: TSX },
  });
  t.after(() => pool.close());
  const udp = pool.endpoints.find((e) => e.proto === 'udp');
  assert.ok(udp, 'the pool reports its UDP endpoint');
  return { api, pool, logs, port: udp.port };
}

/** Every worker listens and has applied the primary's catalog up to its current index. */
async function allCaughtUp(r: Rig, count = 2): Promise<void> {
  await eventually('every worker caught up with the registry', 10_000, () => r.pool.status(),
    (s) => s.length === count && s.every((w) => w.version >= r.api.registry.index));
}

async function srv(port: number, name: string, proto: 'udp' | 'tcp'): Promise<{ rcode: string; answer: string[] }> {
  const q = buildQuery({ name, type: 'SRV' });
  const reply = parseReply(proto === 'udp' ? await sendUdp(port, q) : await sendTcp(port, q));
  return { rcode: reply.rcodeName, answer: reply.answer };
}

/** 50 queries over UDP and 50 over fresh TCP connections (the cluster hands those to the workers in turn). */
async function ask50(port: number, name: string): Promise<{ udp: string[][]; tcp: string[][] }> {
  const udp: string[][] = [];
  const tcp: string[][] = [];
  for (let i = 0; i < 50; i++) {
    udp.push((await srv(port, name, 'udp')).answer);
    tcp.push((await srv(port, name, 'tcp')).answer);
  }
  return { udp, tcp };
}

const queriesBySlot = async (pool: WorkerPool): Promise<Map<number, number>> =>
  new Map((await pool.status()).map((s) => [s.slot, s.queries]));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('--workers 2', { timeout: 120_000 }, () => {
  it('both workers listen on one UDP and one TCP port and answer from the same catalog', async (t) => {
    const r = await rig(t);
    const ports = new Set(r.pool.endpoints.map((e) => e.port));
    assert.deepEqual(r.pool.endpoints.map((e) => e.proto).sort(), ['tcp', 'udp']);
    assert.equal(ports.size, 1, 'UDP and TCP share one port number');
    assert.notEqual(r.port, 0);
    const status = await r.pool.status();
    assert.equal(status.length, 2);
    assert.equal(new Set(status.map((s) => s.pid)).size, 2, 'two processes');
    assert.ok(status.every((s) => s.pid !== process.pid), 'the primary answers no DNS itself');
    for (const proto of ['udp', 'tcp'] as const) {
      assert.deepEqual(await srv(r.port, 'db.connect.consul.', proto),
        { rcode: 'NOERROR', answer: ['db.connect.consul. 0 IN SRV 1 1 5432 ref-node.node.dc1.consul.'] });
    }
  });

  it('a service registered through the API is answered by every worker over UDP and TCP', async (t) => {
    const r = await rig(t);
    assert.equal((await srv(r.port, 'billing.service.consul.', 'udp')).rcode, 'NXDOMAIN');
    const reg = await httpJson(r.api.port, 'PUT', '/v1/agent/service/register', { Name: 'billing', Port: 7070 });
    assert.equal(reg.status, 200);
    await allCaughtUp(r);
    const before = await queriesBySlot(r.pool);
    const { udp, tcp } = await ask50(r.port, 'billing.service.consul.');
    const want = ['billing.service.consul. 0 IN SRV 1 1 7070 ref-node.node.dc1.consul.'];
    for (const answer of [...udp, ...tcp]) assert.deepEqual(answer, want);
    const after = await queriesBySlot(r.pool);
    for (const [slot, n] of after) assert.ok(n - (before.get(slot) ?? 0) >= 10, `worker ${slot} answered its share of the TCP queries`);
  });

  it('a check change reaches every worker: a failing TTL check hides the instance, a passing one shows it', async (t) => {
    const r = await rig(t);
    const reg = await httpJson(r.api.port, 'PUT', '/v1/agent/service/register',
      { Name: 'ledger', Port: 7171, Check: { TTL: '30s' } });
    assert.equal(reg.status, 200);
    await allCaughtUp(r);
    const hidden = await ask50(r.port, 'ledger.service.consul.');
    for (const answer of [...hidden.udp, ...hidden.tcp]) assert.deepEqual(answer, [], 'a new TTL check starts critical');
    assert.equal((await httpJson(r.api.port, 'PUT', '/v1/agent/check/pass/service:ledger')).status, 200);
    await allCaughtUp(r);
    const shown = await ask50(r.port, 'ledger.service.consul.');
    for (const answer of [...shown.udp, ...shown.tcp]) {
      assert.deepEqual(answer, ['ledger.service.consul. 0 IN SRV 1 1 7171 ref-node.node.dc1.consul.']);
    }
    assert.equal((await httpJson(r.api.port, 'PUT', '/v1/agent/check/fail/service:ledger')).status, 200);
    await allCaughtUp(r);
    const again = await ask50(r.port, 'ledger.service.consul.');
    for (const answer of [...again.udp, ...again.tcp]) assert.deepEqual(answer, []);
  });

  it('a killed worker is replaced on the same port and serves what changed while it was down', async (t) => {
    const r = await rig(t);
    const [victim, survivor] = await r.pool.status();
    assert.ok(victim && survivor);
    process.kill(victim.pid, 'SIGKILL');
    await eventually('the killed worker is gone', 5000, async () => isAlive(victim.pid), (alive) => !alive);
    const reg = await httpJson(r.api.port, 'PUT', '/v1/agent/service/register', { Name: 'late', Port: 7272 });
    assert.equal(reg.status, 200);
    await allCaughtUp(r);
    const now = await r.pool.status();
    const replacement = now.find((s) => s.slot === victim.slot);
    assert.ok(replacement && replacement.pid !== victim.pid && replacement.pid !== survivor.pid, 'a new process in the slot');
    assert.ok(r.logs.find(/DNS worker exited; restarting it/), 'the exit is logged');
    assert.equal(r.pool.endpoints.find((e) => e.proto === 'udp')?.port, r.port, 'endpoints unchanged');
    const { udp, tcp } = await ask50(r.port, 'late.service.consul.');
    for (const answer of [...udp, ...tcp]) assert.deepEqual(answer, ['late.service.consul. 0 IN SRV 1 1 7272 ref-node.node.dc1.consul.']);
    const after = await r.pool.status();
    assert.ok((after.find((s) => s.slot === victim.slot)?.queries ?? 0) >= 10, 'the replacement answers its share');
  });

  it('after both workers die the replacements bind the same port again', async (t) => {
    const r = await rig(t);
    const first = await r.pool.status();
    for (const s of first) process.kill(s.pid, 'SIGKILL');
    await eventually('both replaced', 10_000, () => r.pool.status(),
      (s) => s.length === 2 && s.every((w) => !first.some((f) => f.pid === w.pid)));
    assert.equal((await srv(r.port, 'db.connect.consul.', 'udp')).rcode, 'NOERROR');
    assert.equal((await srv(r.port, 'db.connect.consul.', 'tcp')).rcode, 'NOERROR');
  });

  it('a reloaded config reaches every worker (service TTL)', async (t) => {
    const r = await rig(t);
    const line = (ttl: number): string => `db.service.consul. ${ttl} IN SRV 1 1 5432 ref-node.node.dc1.consul.`;
    assert.deepEqual((await srv(r.port, 'db.service.consul.', 'tcp')).answer, [line(0)]);
    r.pool.reconfigure({ ...r.api.config, dns: { ...r.api.config.dns, serviceTtl: { '*': 30 } } });
    // A status round trip follows the config message down each channel, so every worker has applied it.
    assert.equal((await r.pool.status()).length, 2);
    for (let i = 0; i < 20; i++) {
      assert.deepEqual((await srv(r.port, 'db.service.consul.', i % 2 ? 'tcp' : 'udp')).answer, [line(30)]);
    }
  });

  it('queries answered by workers reach the primary\'s metrics', async (t) => {
    const api = await startApi({ dirs: [REFERENCE_DIR], patch: (c) => ({ ...c, logLevel: 'warn' }) });
    t.after(() => api.close());
    const seen: string[] = [];
    const metrics: DnsMetrics = { ...noopMetrics, query: (zone, qtype, rcode, proto) => void seen.push(`${zone} ${qtype} ${rcode} ${proto}`) };
    const pool = await startWorkers({
      count: 2, config: api.config, registry: api.registry, logger: createLogSink('warn').logger, metrics,
      exec: { file: WORKER_ENTRY, execArgv: TSX },
    });
    t.after(() => pool.close());
    const port = pool.endpoints[0]?.port ?? 0;
    for (let i = 0; i < 10; i++) await srv(port, 'db.connect.consul.', i % 2 ? 'tcp' : 'udp');
    await eventually('the workers\' counts arrived', 5000, async () => seen.length, (n) => n >= 10);
    assert.equal(seen.length, 10, 'each query counted once');
    assert.deepEqual(new Set(seen), new Set(['domain 33 0 udp', 'domain 33 0 tcp']));
  });

  it('close() stops every worker and the port stops answering', async (t) => {
    const r = await rig(t);
    const pids = (await r.pool.status()).map((s) => s.pid);
    await r.pool.close();
    for (const pid of pids) assert.equal(isAlive(pid), false, `worker ${pid} exited`);
    await assert.rejects(sendUdp(r.port, buildQuery({ name: 'db.connect.consul.', type: 'SRV' }), { timeoutMs: 300 }));
  });
});

/** A primary in its own process, so the test can signal it as an operator would. */
function primaryScript(): string {
  return `
    import { startWorkers } from ${JSON.stringify(POOL_MODULE)};
    import { startApi, REFERENCE_DIR } from ${JSON.stringify(HARNESS_MODULE)};
    const api = await startApi({ dirs: [REFERENCE_DIR], patch: (c) => ({ ...c, logLevel: 'warn' }) });
    const { pino } = await import('pino');
    const pool = await startWorkers({ count: 2, config: api.config, registry: api.registry, logger: pino({ level: 'warn' }),
      exec: { file: ${JSON.stringify(WORKER_ENTRY)}, execArgv: ${JSON.stringify(TSX)} } });
    process.once('SIGTERM', async () => { await pool.close(); await api.close(); process.exit(0); });
    process.stdout.write(JSON.stringify((await pool.status()).map((s) => s.pid)) + '\\n');
  `;
}

async function spawnPrimary(t: TestContext): Promise<{ pid: number; workers: number[]; exited: Promise<unknown[]> }> {
  const child = spawn(process.execPath, [...TSX, '--input-type=module', '-e', primaryScript()], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  for await (const chunk of child.stdout) {
    out += String(chunk);
    if (out.includes('\n')) break;
  }
  const workers = JSON.parse(out.split('\n')[0] ?? '[]') as number[];
  assert.equal(workers.length, 2, `the primary reported its workers: ${out}`);
  return { pid: child.pid as number, workers, exited };
}

describe('stopping the primary', { timeout: 60_000 }, () => {
  it('SIGTERM to the primary stops every worker, and the primary exits 0', async (t) => {
    const p = await spawnPrimary(t);
    process.kill(p.pid, 'SIGTERM');
    const [code] = await p.exited;
    assert.equal(code, 0);
    for (const pid of p.workers) {
      await eventually(`worker ${pid} exited`, 5000, async () => isAlive(pid), (alive) => !alive);
    }
  });

  it('a primary killed outright leaves no worker behind', async (t) => {
    const p = await spawnPrimary(t);
    t.after(() => {
      for (const pid of p.workers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    });
    process.kill(p.pid, 'SIGKILL');
    await p.exited;
    for (const pid of p.workers) {
      await eventually(`orphaned worker ${pid} exited`, 5000, async () => isAlive(pid), (alive) => !alive);
    }
  });
});
