// Persistence end to end with the real binary: SIGKILL mid-burst loses no acknowledged write; no data dir writes nothing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Consul from 'consul';
import { curl, httpJson } from '../helpers/api-harness.js';
import { runBinaryToExit, startBinary, type BinaryServer } from '../helpers/binary.js';
import { hasDig } from '../helpers/dig.js';
import { digBoth, srvBoth, srvPorts } from '../fixtures/reload/dns-poll.js';

const STATE_FILE = 'connect-dns-state.json';
const noDig = !(await hasDig()) && 'dig is not installed';
const both = (s: string): { udp: string; tcp: string } => ({ udp: s, tcp: s });

function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The examples-style config: a node and `redis` with a managed proxy (`connect.proxy {}`, no command). */
function writeConfig(dir: string): void {
  writeFileSync(join(dir, 'agent.json'), JSON.stringify({ node_name: 'persist-node', datacenter: 'dc1', advertise_addr: '127.0.0.1' }));
  writeFileSync(join(dir, 'redis.json'), JSON.stringify({ service: { name: 'redis', port: 6379, connect: { proxy: {} } } }));
}

async function launch(t: TestContext, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<BinaryServer> {
  const srv = await startBinary(args, opts);
  t.after(() => srv.stop('SIGKILL'));
  return srv;
}

type Services = Record<string, { ID: string; Service: string; Port: number }>;
type Checks = Record<string, { CheckID: string; Status: string; Output: string; ServiceID: string }>;

async function getJson<T>(port: number, path: string): Promise<T> {
  const r = await httpJson(port, 'GET', path);
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return r.json as T;
}

const TOTAL = 200;
const WORKERS = 8;
const KILL_AFTER = 100;
const portOf = (i: number): number => 30000 + i;
const idOf = (i: number): string => `burst-${i}`;

describe('persistence with --data-dir (real binary)', { skip: noDig, timeout: 120_000 }, () => {
  it('SIGKILL during a burst of registrations: every acknowledged write is there after a restart', async (t) => {
    const root = tempDir(t, 'cdns-persist-');
    const conf = join(root, 'conf');
    const data = join(root, 'data');
    mkdirSync(conf);
    writeConfig(conf);
    const args = ['--config-dir', conf, '--data-dir', data];
    const first = await launch(t, args);
    const proxyPort = (await getJson<Services>(first.httpPort, '/v1/agent/services'))['redis-proxy']?.Port;
    assert.ok(proxyPort !== undefined && proxyPort >= 20000 && proxyPort <= 20255, `managed proxy port ${proxyPort}`);

    const acked = new Set<number>();
    const failed = new Set<number>(); // TTL failed (critical, note "down"), acknowledged
    const warned = new Set<number>(); // TTL warning (output "slow"), acknowledged
    let queryId: string | undefined;
    let killed = false;
    let sideDone = false;
    let stopped = false; // the side task failed: workers give up rather than wait for it
    const errorsBeforeKill: string[] = [];
    const kill = (): void => {
      if (killed || !sideDone || acked.size < KILL_AFTER) return;
      killed = true;
      first.child.kill('SIGKILL');
    };

    // Between the registrations: fail and warn TTL checks of acknowledged ones, and create a prepared query.
    const side = async (): Promise<void> => {
      for (let n = 0; n < 2000 && acked.size < 30; n++) await sleep(5);
      const some = [...acked].slice(0, 15);
      const updates = [
        ...some.slice(0, 10).map(async (i) => {
          const r = await httpJson(first.httpPort, 'PUT', `/v1/agent/check/fail/service:${idOf(i)}?note=down`);
          assert.equal(r.status, 200, r.text);
          failed.add(i);
        }),
        ...some.slice(10).map(async (i) => {
          const r = await httpJson(first.httpPort, 'PUT', `/v1/agent/check/update/service:${idOf(i)}`, { Status: 'warning', Output: 'slow' });
          assert.equal(r.status, 200, r.text);
          warned.add(i);
        }),
        (async () => {
          const q = await httpJson(first.httpPort, 'POST', '/v1/query', { Name: 'burst-q', Service: { Service: 'burst', OnlyPassing: true } });
          assert.equal(q.status, 200, q.text);
          queryId = (q.json as { ID: string }).ID;
        })(),
      ];
      await Promise.all(updates).catch((err: unknown) => {
        stopped = true;
        throw err;
      });
      sideDone = true;
      kill();
    };

    let next = 0;
    const worker = async (): Promise<void> => {
      for (let spins = 0; !killed && !stopped && next < TOTAL && spins < 20_000; spins++) {
        // Keep the last registrations for after the TTL updates, so the kill always lands inside the burst.
        if (!sideDone && next >= TOTAL - 2 * WORKERS) {
          await sleep(5);
          continue;
        }
        const i = next++;
        try {
          const r = await httpJson(first.httpPort, 'PUT', '/v1/agent/service/register', {
            ID: idOf(i), Name: 'burst', Port: portOf(i), Check: { TTL: '10m', Status: 'passing' },
          });
          if (r.status === 200) acked.add(i);
          else if (!killed) errorsBeforeKill.push(`${i}: ${r.status} ${r.text}`);
        } catch (err) {
          if (!killed) errorsBeforeKill.push(`${i}: ${String(err)}`);
        }
        kill();
      }
    };
    await Promise.all([side(), ...Array.from({ length: WORKERS }, worker)]);
    assert.deepEqual(errorsBeforeKill, []);
    assert.ok(killed, `killed mid-burst (acknowledged ${acked.size} of ${TOTAL})`);
    assert.ok(acked.size < TOTAL, 'the kill came before the burst ended');
    assert.deepEqual(await first.exited, { code: null, signal: 'SIGKILL' });
    t.diagnostic(`acknowledged ${acked.size} of ${TOTAL} registrations before SIGKILL`);

    const second = await launch(t, args);
    const services = await getJson<Services>(second.httpPort, '/v1/agent/services');
    const missing = [...acked].filter((i) => services[idOf(i)]?.Port !== portOf(i));
    assert.deepEqual(missing, [], 'every acknowledged registration is back, with its port');
    assert.equal(services['redis-proxy']?.Port, proxyPort, 'the managed proxy keeps its port');

    const checks = await getJson<Checks>(second.httpPort, '/v1/agent/checks');
    for (const i of acked) {
      const c = checks[`service:${idOf(i)}`];
      const want = failed.has(i) ? ['critical', 'down'] : warned.has(i) ? ['warning', 'slow'] : ['passing'];
      assert.deepEqual(failed.has(i) || warned.has(i) ? [c?.Status, c?.Output] : [c?.Status], want, `check of ${idOf(i)}`);
    }

    // The npm consul client sees the prepared query, under its old ID.
    const consul = new Consul({ host: '127.0.0.1', port: second.httpPort });
    const queries = (await consul.query.list()) as { ID: string; Name: string }[];
    assert.deepEqual(queries.map((q) => [q.ID, q.Name]), [[queryId, 'burst-q']]);

    // DNS: TCP carries every healthy instance; UDP a fitting subset, never a failed one.
    const failedPorts = new Set([...failed].map(portOf));
    const warnedPorts = new Set([...warned].map(portOf));
    const healthyAcked = [...acked].filter((i) => !failed.has(i)).map(portOf);
    const passingAcked = healthyAcked.filter((p) => !warnedPorts.has(p));
    for (const [name, mustHave, mustNot] of [
      ['burst.service.consul', healthyAcked, failedPorts],
      ['burst-q.query.consul', passingAcked, new Set([...failedPorts, ...warnedPorts])],
    ] as const) {
      const r = await digBoth(second.dnsPort, name, 'SRV');
      assert.equal(r.tcp.status, 'NOERROR', r.tcp.text);
      assert.equal(r.udp.status, 'NOERROR', r.udp.text);
      const tcp = new Set(srvPorts(r.tcp));
      assert.deepEqual(mustHave.filter((p) => !tcp.has(p)), [], `${name} over TCP has every acknowledged healthy instance`);
      assert.deepEqual([...tcp].filter((p) => mustNot.has(p)), [], `${name} over TCP leaves out failed checks`);
      const udp = srvPorts(r.udp);
      assert.ok(udp.length > 0 && r.udp.flags.includes('tc'), `${name} over UDP: a truncated subset`);
      assert.deepEqual(udp.filter((p) => mustNot.has(p) || !tcp.has(p)), [], `${name} over UDP: only healthy instances`);
    }
    assert.deepEqual(await second.stop(), { code: 0, signal: null });
  });

  it('without --data-dir nothing is written: no state file anywhere we can see, and registrations live in memory', async (t) => {
    const root = tempDir(t, 'cdns-nopersist-');
    const conf = join(root, 'conf');
    const cwd = join(root, 'cwd');
    const home = join(root, 'home');
    for (const d of [conf, cwd, home]) mkdirSync(d);
    writeConfig(conf);
    const env = { ...process.env, HOME: home, TMPDIR: join(root, 'tmp-never-created') };
    const srv = await launch(t, ['--config-dir', conf], { cwd, env });
    await srv.waitForLog(/no data_dir/, 2000);
    const reg = await curl(srv.httpPort, '/v1/agent/service/register',
      ['-X', 'PUT', '--data-binary', JSON.stringify({ Name: 'mem-only', Port: 7001, Check: { TTL: '10m', Status: 'passing' } })]);
    assert.equal(reg.status, 200, reg.body);
    assert.deepEqual(await srvBoth(srv.dnsPort, 'mem-only.service.consul'), both('NOERROR 7001'));
    assert.equal((await curl(srv.httpPort, '/v1/agent/check/fail/service:mem-only', ['-X', 'PUT'])).status, 200);
    assert.deepEqual(await srv.stop(), { code: 0, signal: null });

    assert.deepEqual(readdirSync(root).sort(), ['conf', 'cwd', 'home'], 'no data dir was created');
    assert.deepEqual(readdirSync(cwd), [], 'nothing in the working directory');
    assert.deepEqual(readdirSync(home), [], 'nothing in HOME');
    assert.deepEqual(readdirSync(conf).sort(), ['agent.json', 'redis.json'], 'nothing next to the config');

    const again = await launch(t, ['--config-dir', conf], { cwd, env });
    assert.deepEqual(await srvBoth(again.dnsPort, 'mem-only.service.consul'), both('NXDOMAIN'), 'gone after a restart');
    assert.equal((await getJson<Services>(again.httpPort, '/v1/agent/services'))['mem-only'], undefined);
    assert.deepEqual(await again.stop(), { code: 0, signal: null });
    assert.deepEqual(readdirSync(cwd), []);
  });

  it('a corrupt state file: the server refuses to start (exit 1) naming the file, and leaves the file as it was', async (t) => {
    const root = tempDir(t, 'cdns-corrupt-');
    const conf = join(root, 'conf');
    const data = join(root, 'data');
    mkdirSync(conf);
    writeConfig(conf);
    const args = ['--config-dir', conf, '--data-dir', data];
    const srv = await launch(t, args);
    const reg = await httpJson(srv.httpPort, 'PUT', '/v1/agent/service/register', { Name: 'kept', Port: 7002 });
    assert.equal(reg.status, 200, reg.text);
    assert.deepEqual(await srv.stop(), { code: 0, signal: null });
    const file = join(data, STATE_FILE);
    const good = readFileSync(file);

    const flipped = Buffer.from(good);
    const at = flipped.indexOf('7002');
    assert.ok(at > 0, 'the registration is in the state file');
    flipped[at] = '8'.charCodeAt(0); // still valid JSON, wrong checksum
    const corruptions: [string, Buffer][] = [
      ['one changed byte', flipped],
      ['a truncated file', good.subarray(0, Math.floor(good.length / 2))],
      ['not JSON at all', Buffer.from('garbage\n')],
      ['an empty file', Buffer.alloc(0)],
    ];
    for (const [what, bytes] of corruptions) {
      writeFileSync(file, bytes);
      const r = await runBinaryToExit(args);
      assert.equal(r.started, false, `${what}: never serves`);
      assert.equal(r.code, 1, `${what}: exit 1 (stderr: ${r.stderr})`);
      assert.ok(r.stderr.includes(file), `${what}: names the file: ${r.stderr}`);
      assert.deepEqual(readFileSync(file), bytes, `${what}: the file is left for the operator`);
    }

    // Put the good file back: it starts and the registration is there.
    writeFileSync(file, good);
    const back = await launch(t, args);
    assert.deepEqual(await srvBoth(back.dnsPort, 'kept.service.consul'), both('NOERROR 7002'));
    assert.deepEqual(await back.stop(), { code: 0, signal: null });
  });
});
