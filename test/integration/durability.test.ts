// Durability with the real binary: SIGKILL rounds mid-burst, and a real full disk and read-only data dir (tmpfs).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { httpJson } from '../helpers/api-harness.js';
import { startBinary, type BinaryServer, type StartOptions } from '../helpers/binary.js';
import { hasDig } from '../helpers/dig.js';
import { mountNsUnavailable, openMountNs, type MountNs } from '../helpers/mount-ns.js';
import { sample } from '../helpers/prom-sample.js';
import { seededRandom } from '../helpers/reference-catalog.js';
import { digBoth, srvBoth, srvPorts } from '../fixtures/reload/dns-poll.js';
import { parseEnvelope } from '../../src/persist/envelope.js';
import type { PersistedState } from '../../src/persist/state-file.js';

const STATE_FILE = 'connect-dns-state.json';
const noDig = !(await hasDig()) && 'dig is not installed';
const nsProblem = await mountNsUnavailable();
// CI runs as root on Linux: there a missing namespace is a broken runner, not a reason to skip.
if (nsProblem && process.env['CI']) throw new Error(`the real-fault durability tests need unshare -m and root: ${nsProblem}`);

function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function configDir(t: TestContext): string {
  const conf = join(tempDir(t, 'cdns-durable-conf-'), 'conf');
  mkdirSync(conf);
  writeFileSync(join(conf, 'agent.json'), JSON.stringify({ node_name: 'durable-node', datacenter: 'dc1', advertise_addr: '127.0.0.1' }));
  return conf;
}

async function launch(t: TestContext, args: string[], opts: StartOptions = {}): Promise<BinaryServer> {
  const srv = await startBinary(args, opts);
  t.after(() => srv.kill());
  return srv;
}

const register = (srv: BinaryServer, id: string, port: number): ReturnType<typeof httpJson> =>
  httpJson(srv.httpPort, 'PUT', '/v1/agent/service/register', { ID: id, Name: id.replace(/-\d+$/, ''), Port: port });

async function servicePorts(srv: BinaryServer): Promise<Map<string, number>> {
  const r = await httpJson(srv.httpPort, 'GET', '/v1/agent/services');
  assert.equal(r.status, 200, r.text);
  return new Map(Object.entries(r.json as Record<string, { Port: number }>).map(([id, s]) => [id, s.Port]));
}

/** The state file's services (id → port); parseEnvelope throws on a torn or damaged file. */
function fileServices(path: string): Map<string, number> {
  const payload = parseEnvelope(readFileSync(path, 'utf8'), path).payload as PersistedState;
  return new Map(payload.registry.services.map((s) => [s.id, s.port]));
}

describe('durability (real binary)', { skip: noDig, timeout: 180_000 }, () => {
  it('5 SIGKILLs at seeded random points of register/deregister bursts: each restart has every acknowledged change', async (t) => {
    const seed = 0x5eed5;
    const rand = seededRandom(seed);
    t.diagnostic(`seed ${seed}`);
    const conf = configDir(t);
    const data = join(tempDir(t, 'cdns-durable-data-'), 'data');
    const args = ['--config-dir', conf, '--data-dir', data];
    const present = new Map<string, number>(); // last acknowledged: registered, with this port
    const absent = new Set<string>(); // last acknowledged: deregistered
    let nextId = 0;
    for (let round = 1; round <= 5; round++) {
      const srv = await launch(t, args);
      assert.deepEqual(readdirSync(data), [STATE_FILE], `round ${round}: no temp file survives a start`);
      const have = await servicePorts(srv);
      assert.deepEqual([...present].filter(([id, port]) => have.get(id) !== port), [], `round ${round}: every acknowledged registration is back`);
      assert.deepEqual([...absent].filter((id) => have.has(id)), [], `round ${round}: no acknowledged deregistration came back`);
      const r = await digBoth(srv.dnsPort, 'burst.service.consul', 'SRV');
      const tcp = new Set(srvPorts(r.tcp));
      assert.deepEqual([...present.values()].filter((p) => !tcp.has(p)), [], `round ${round}: DNS over TCP has every acknowledged instance`);
      assert.ok(srvPorts(r.udp).every((p) => tcp.has(p)), `round ${round}: DNS over UDP answers a subset`);
      if (present.size === 0) assert.equal(r.udp.status, 'NXDOMAIN');

      const killAfter = 10 + Math.floor(rand() * 50);
      let acks = 0;
      let killed = false;
      const errors: string[] = [];
      const worker = async (): Promise<void> => {
        for (let n = 0; n < 500 && !killed; n++) {
          // One op in four deregisters an acknowledged instance; an op cut by the kill leaves its ID unknown.
          const victims = [...present.keys()];
          const dereg = victims.length > 0 && rand() < 0.25 ? victims[Math.floor(rand() * victims.length)] : undefined;
          const id = dereg ?? `burst-${nextId++}`;
          const port = 30000 + (Number(id.slice(6)) % 30000);
          if (dereg) present.delete(dereg);
          try {
            const res = dereg
              ? await httpJson(srv.httpPort, 'PUT', `/v1/agent/service/deregister/${dereg}`)
              : await register(srv, id, port);
            if (res.status !== 200) throw new Error(`${res.status} ${res.text}`);
            if (dereg) absent.add(id);
            else present.set(id, port);
            acks += 1;
          } catch (err) {
            if (!killed) errors.push(`${id}: ${String(err)}`);
            return;
          }
          if (acks >= killAfter && !killed) {
            killed = true;
            srv.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: 6 }, worker));
      assert.deepEqual(errors, [], `round ${round}: no error before the kill`);
      assert.ok(killed, `round ${round}: killed mid-burst`);
      assert.deepEqual(await srv.exited, { code: null, signal: 'SIGKILL' });
      const onDisk = fileServices(join(data, STATE_FILE));
      assert.deepEqual([...present].filter(([id, port]) => onDisk.get(id) !== port), [], `round ${round}: the file holds every acknowledged registration`);
      assert.deepEqual([...absent].filter((id) => onDisk.has(id)), [], `round ${round}: the file holds no acknowledged deregistration`);
      t.diagnostic(`round ${round}: killed after ${acks} acks (${present.size} present, ${absent.size} deregistered)`);
    }
  });

  describe('real disk faults on a 64 KiB tmpfs in a private mount namespace', { skip: nsProblem ?? false }, () => {
    async function faultyDisk(t: TestContext): Promise<{ ns: MountNs; data: string; file: string; args: string[] }> {
      const ns = await openMountNs(64);
      t.after(() => ns.close());
      const data = join(ns.mount, 'data');
      return { ns, data, file: join(data, STATE_FILE), args: ['--config-dir', configDir(t), '--data-dir', data] };
    }

    const writeErrors = async (srv: BinaryServer, errno: string): Promise<number> => {
      const r = await httpJson(srv.httpPort, 'GET', '/metrics');
      return sample(r.text, 'connect_dns_state_write_errors_total', { errno }) ?? 0;
    };

    /** The failed write's one error line, with file, operation and errno. */
    function assertLoggedOnce(srv: BinaryServer, file: string, operation: string, errno: string): void {
      const lines = srv.lines.filter((l) => l['level'] === 50 && /^state write failed/.test(String(l['msg'])));
      assert.equal(lines.length, 1, `one error line for the episode: ${JSON.stringify(lines)}`);
      assert.deepEqual([lines[0]?.['file'], lines[0]?.['operation'], lines[0]?.['errno']], [file, operation, errno]);
      assert.equal(srv.lines.filter((l) => l['msg'] === 'API request failed').length, 0, 'refused requests are not logged again');
    }

    it('ENOSPC: 500 naming the errno, DNS keeps answering, the old file stays whole, and retries succeed once space is back', async (t) => {
      const { ns, data, file, args } = await faultyDisk(t);
      const srv = await launch(t, args, { prefix: ns.prefix });
      assert.equal((await register(srv, 'before-1', 7001)).status, 200);
      const good = readFileSync(ns.outside(file));

      // Fill the tmpfs: the filler's write stops at ENOSPC.
      assert.throws(() => writeFileSync(ns.outside(join(ns.mount, 'filler')), Buffer.alloc(128 * 1024)), /ENOSPC/);
      for (const [id, port] of [['during-1', 7002], ['during-2', 7003]] as const) {
        const r = await register(srv, id, port);
        assert.equal(r.status, 500, r.text);
        assert.match(r.text, new RegExp(`^failed to persist the change: ${file}: writing failed: ENOSPC`));
      }
      // The changes are applied in memory and served, over UDP and TCP.
      for (const [name, port] of [['before', '7001'], ['during', '7002,7003']]) {
        assert.deepEqual(await srvBoth(srv.dnsPort, `${name}.service.consul`), { udp: `NOERROR ${port}`, tcp: `NOERROR ${port}` });
      }
      await pollMetric(srv, 'ENOSPC', 4);
      assert.deepEqual(readFileSync(ns.outside(file)), good, 'the old state file is intact');
      assert.deepEqual(readdirSync(ns.outside(data)), [STATE_FILE], 'no temp file is left');
      assertLoggedOnce(srv, file, 'writing', 'ENOSPC');

      rmSync(ns.outside(join(ns.mount, 'filler')));
      await srv.waitForLog(/^state write succeeded again/, 30_000);
      assert.deepEqual([...fileServices(ns.outside(file))].sort(), [['before-1', 7001], ['during-1', 7002], ['during-2', 7003]]);
      assert.equal((await register(srv, 'after-1', 7004)).status, 200);

      // Killed without a clean stop, the restart loads every change, including those made during the fault.
      srv.child.kill('SIGKILL');
      await srv.exited;
      const again = await launch(t, args, { prefix: ns.prefix });
      assert.deepEqual(await srvBoth(again.dnsPort, 'during.service.consul'), { udp: 'NOERROR 7002,7003', tcp: 'NOERROR 7002,7003' });
      assert.equal((await servicePorts(again)).get('after-1'), 7004);
    });

    async function pollMetric(srv: BinaryServer, errno: string, atLeast: number): Promise<void> {
      let n = 0;
      for (let i = 0; i < 300 && n < atLeast; i++) {
        n = await writeErrors(srv, errno);
        if (n < atLeast) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(n >= atLeast, `connect_dns_state_write_errors_total{errno="${errno}"} is ${n}, want >= ${atLeast}`);
    }

    it('read-only data dir, while running and at start: 500 with EROFS, DNS serves, state intact, recovers when writable', async (t) => {
      const { ns, file, args } = await faultyDisk(t);
      const srv = await launch(t, args, { prefix: ns.prefix });
      assert.equal((await register(srv, 'before-1', 7101)).status, 200);
      const good = readFileSync(ns.outside(file));

      await ns.remount('ro');
      const r = await register(srv, 'during-1', 7102);
      assert.equal(r.status, 500, r.text);
      assert.match(r.text, new RegExp(`^failed to persist the change: ${file}: creating the temp file failed: EROFS`));
      const dereg = await httpJson(srv.httpPort, 'PUT', '/v1/agent/service/deregister/before-1');
      assert.equal(dereg.status, 500, dereg.text);
      assert.deepEqual(await srvBoth(srv.dnsPort, 'during.service.consul'), { udp: 'NOERROR 7102', tcp: 'NOERROR 7102' });
      assert.deepEqual(await srvBoth(srv.dnsPort, 'before.service.consul'), { udp: 'NXDOMAIN', tcp: 'NXDOMAIN' });
      await pollMetric(srv, 'EROFS', 3);
      assert.deepEqual(readFileSync(ns.outside(file)), good, 'the old state file is intact');
      assertLoggedOnce(srv, file, 'creating the temp file', 'EROFS');

      await ns.remount('rw');
      await srv.waitForLog(/^state write succeeded again/, 30_000);
      assert.deepEqual([...fileServices(ns.outside(file))], [['during-1', 7102]]);
      assert.deepEqual(await srv.stop(), { code: 0, signal: null });

      // Start on a read-only data dir: it serves the loaded state, says why writes fail, and heals when writable.
      await ns.remount('ro');
      const ro = await launch(t, args, { prefix: ns.prefix });
      const why = ro.logged(/^the data dir cannot be written/);
      assert.equal(why.length, 1, 'one clear error at start');
      assert.match(String(why[0]?.['err']), /EROFS/);
      assert.deepEqual(await srvBoth(ro.dnsPort, 'during.service.consul'), { udp: 'NOERROR 7102', tcp: 'NOERROR 7102' });
      const late = await register(ro, 'late-1', 7103);
      assert.equal(late.status, 500, late.text);
      assert.match(late.text, /EROFS/);
      assert.deepEqual(await srvBoth(ro.dnsPort, 'late.service.consul'), { udp: 'NOERROR 7103', tcp: 'NOERROR 7103' });
      assertLoggedOnce(ro, file, 'creating the temp file', 'EROFS');
      await ns.remount('rw');
      await ro.waitForLog(/^state write succeeded again/, 30_000);
      assert.deepEqual([...fileServices(ns.outside(file))].sort(), [['during-1', 7102], ['late-1', 7103]]);
      assert.deepEqual(await ro.stop(), { code: 0, signal: null });
    });
  });
});
