// Config faults end to end: the binary refuses to start on each class with file, key and reason; a running
// server given the same faults at reload logs them, keeps answering the last good catalog, and takes the fix.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { BIN, runBinaryToExit, startBinary } from '../helpers/binary.js';
import { BAD, BASE, baseConfig, FAULTS, FORMATS, WARNINGS, writeConfig, type FaultCase, type Format } from '../helpers/config-faults.js';
import { hasDig } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from '../helpers/wait.js';
import { srvBoth } from '../fixtures/reload/dns-poll.js';

const exec = promisify(execFile);
const noDig = !(await hasDig()) && 'dig is not installed';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-faults-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function faultCase(name: string): FaultCase {
  const c = FAULTS.find((f) => f.name === name);
  if (!c) throw new Error(`no fault case "${name}"`);
  return c;
}

/** A dir holding the good base and the case's bad file, in one format. */
function faultDir(t: TestContext, c: FaultCase, format: Format): { dir: string; file: string } {
  const dir = tempDir(t);
  writeConfig(dir, BASE, baseConfig(8080), format);
  return { dir, file: writeConfig(dir, BAD, c.bad, format) };
}

async function validate(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, 'validate', '--config-dir', dir], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The line a user reads: `<file> <key>: <reason>`. */
function assertNamed(text: string, file: string, c: FaultCase): void {
  const line = text.split('\n').find((l) => l.includes(`${file} ${c.key}: `));
  assert.ok(line, `names ${file} and ${c.key}:\n${text}`);
  assert.match(line, c.reason);
}

// One case per class, and a cross-file conflict, through the built binary (the rest go through loadConfig in the unit test).
const BINARY_CASES = [
  'dns port above 65535', 'check interval beyond a timer', 'host bits set', 'advertise_addr the any address', 'service name',
  'datacenter of 64', 'a service ID taken in another file', 'max_probe_interval below probe_interval',
];

describe('config faults at start, the built binary', { timeout: 180_000 }, () => {
  for (const format of FORMATS) {
    it(`validate exits 1 naming file, key and reason (${format})`, async (t) => {
      for (const name of BINARY_CASES) {
        const c = faultCase(name);
        const { dir, file } = faultDir(t, c, format);
        const r = await validate(dir);
        assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /^connect-dns: config error: /, name);
        assertNamed(r.stderr, file, c);
      }
    });

    it(`serve refuses to start, naming file, key and reason (${format})`, async (t) => {
      for (const name of ['recursor port 0', 'two checks, one ID', 'domain too long for its names']) {
        const c = faultCase(name);
        const { dir, file } = faultDir(t, c, format);
        const r = await runBinaryToExit(['--config-dir', dir]);
        assert.equal(r.started, false, `${name} must not start: ${r.stdout}`);
        assert.equal(r.code, 1, `${name}: ${r.stderr}`);
        assertNamed(r.stderr, file, c);
      }
    });
  }

  it('validate accepts names DNS cannot ask with a warning naming file and key (Consul registers them too)', async (t) => {
    for (const w of WARNINGS) {
      const dir = tempDir(t);
      writeConfig(dir, BASE, baseConfig(8080), 'hcl');
      const file = writeConfig(dir, BAD, w.bad, 'hcl');
      const r = await validate(dir);
      assert.equal(r.code, 0, `${w.name}: ${r.stderr}`);
      const line = r.stderr.split('\n').find((l) => l.startsWith(`warning: ${file}: ${w.key}: `));
      assert.ok(line, `${w.name}: ${r.stderr}`);
      assert.match(line, w.reason);
    }
  });
});

interface ReloadProblem { code?: string; file?: string; key?: string; reason?: string }

/** The one "reload failed" error logged since `from`, with its problems as data. */
function reloadFailure(srv: TestServer, from: number): { msg: string; problems: ReloadProblem[] } {
  const failed = srv.logs.lines.slice(from).filter((l) => l['level'] === 50 && /^reload failed/.test(String(l['msg'])));
  assert.equal(failed.length, 1, JSON.stringify(srv.logs.lines.slice(from)));
  const line = failed[0] ?? {};
  return { msg: String(line['msg']), problems: (line['problems'] ?? []) as ReloadProblem[] };
}

const both = (port: number): { udp: string; tcp: string } => ({ udp: `NOERROR ${port}`, tcp: `NOERROR ${port}` });

describe('config faults at reload: logged with file, key and reason; the last good catalog keeps answering', { skip: noDig, timeout: 300_000 }, () => {
  for (const format of FORMATS) {
    it(`every class (${format}), then the fix is taken`, async (t) => {
      const dir = tempDir(t);
      let port = 8080;
      writeConfig(dir, BASE, baseConfig(port), format);
      const srv = await startTestServer({ dirs: [dir] });
      t.after(() => srv.close());
      assert.deepEqual(await srvBoth(srv.port, 'web.service.consul'), both(port));

      for (const c of FAULTS) {
        if (c.startOnly) continue;
        const file = writeConfig(dir, BAD, c.bad, format);
        const from = srv.logs.lines.length;
        assert.equal(await srv.server.reload(), false, `${c.name}: the reload must fail`);
        const { msg, problems } = reloadFailure(srv, from);
        assert.equal(problems.length, 1, `${c.name}: ${msg}`);
        const [p] = problems;
        assert.deepEqual({ code: p?.code, file: p?.file, key: p?.key }, { code: c.code, file, key: c.key }, `${c.name}: ${msg}`);
        assert.match(p?.reason ?? '', c.reason, c.name);
        assert.ok(msg.includes(`${file} ${c.key}: `), `${c.name}: the message names file and key: ${msg}`);
        assert.deepEqual(await srvBoth(srv.port, 'web.service.consul'), both(port), `${c.name}: still the last good catalog`);

        // The fix: the bad file gone and the base edited; the new answer shows the reload was taken.
        unlinkSync(file);
        port += 1;
        writeConfig(dir, BASE, baseConfig(port), format);
        assert.equal(await srv.server.reload(), true, `${c.name}: the fixed config reloads`);
        assert.deepEqual(await srvBoth(srv.port, 'web.service.consul'), both(port), `${c.name}: the fix is answered`);
      }
    });
  }

  it('a name DNS cannot ask is a warning with file and key at reload, and the rest of the file is applied', async (t) => {
    const dir = tempDir(t);
    writeConfig(dir, BASE, baseConfig(8080), 'json');
    const srv = await startTestServer({ dirs: [dir] });
    t.after(() => srv.close());
    const w = WARNINGS.find((x) => x.name === 'an empty tag');
    assert.ok(w);
    const file = writeConfig(dir, BAD, w.bad, 'json');
    const from = srv.logs.lines.length;
    assert.equal(await srv.server.reload(), true);
    const warned = srv.logs.lines.slice(from).filter((l) => l['level'] === 40 && String(l['msg']).startsWith(`${file}: ${w.key}: `));
    assert.equal(warned.length, 1, JSON.stringify(srv.logs.lines.slice(from)));
    assert.match(String(warned[0]?.['msg']), w.reason);
    // The bad file's service (port 1) is served: it was a warning, not a refusal.
    assert.deepEqual(await srvBoth(srv.port, 'api.service.consul'), both(1));
    assert.deepEqual(await srvBoth(srv.port, 'v1.api.service.consul'), both(1));
  });

  it('the binary, watching its --config-dir: a bad file is logged as data and ignored, the fix is answered', async (t) => {
    const dir = tempDir(t);
    writeConfig(dir, BASE, baseConfig(8080), 'hcl');
    const srv = await startBinary(['--config-dir', dir]);
    t.after(() => srv.kill());
    assert.deepEqual(await srvBoth(srv.dnsPort, 'web.service.consul'), both(8080));
    let port = 8080;
    for (const name of ['tcp check port 70000', 'a service ID taken in another file', 'probe_interval above the default cap']) {
      const c = faultCase(name);
      const from = srv.lines.length;
      const file = writeConfig(dir, BAD, c.bad, 'hcl');
      const line = await srv.waitForLog(/^reload failed/, 10_000, from);
      const [p] = (line['problems'] ?? []) as ReloadProblem[];
      assert.deepEqual({ code: p?.code, file: p?.file, key: p?.key }, { code: c.code, file, key: c.key }, String(line['msg']));
      assert.match(p?.reason ?? '', c.reason);
      assert.equal(line['level'], 50);
      assert.deepEqual(await srvBoth(srv.dnsPort, 'web.service.consul'), both(port), `${name}: still the last good catalog`);
      unlinkSync(file);
      port += 1;
      writeConfig(dir, BASE, baseConfig(port), 'hcl');
      const want = both(port);
      await eventually(`${name}: fix answered`, 10_000, () => srvBoth(srv.dnsPort, 'web.service.consul'),
        (v) => v.udp === want.udp && v.tcp === want.tcp);
    }
    assert.equal(srv.child.exitCode, null, 'still running');
    assert.deepEqual(await srv.stop(), { code: 0, signal: null });
  });
});
