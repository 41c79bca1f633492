// The state file on a real disk: round trip into a registry, coalesced saves, refused writes and damaged files.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRegistry } from '../../src/catalog/registry.js';
import { ErrorCode } from '../../src/errors.js';
import { parseEnvelope } from '../../src/persist/envelope.js';
import { PersistError } from '../../src/persist/persist-error.js';
import { openStateFile, STATE_FILE_NAME, type PersistedState } from '../../src/persist/state-file.js';
import { configInput, sampleProxyPorts, sampleRegistry } from '../fixtures/persist/sample-state.js';
import { createLogSink } from '../helpers/log-sink.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../fixtures/persist/v1/connect-dns-state.json', import.meta.url));

function tempBase(t: TestContext): string {
  const base = mkdtempSync(join(tmpdir(), 'cdns-persist-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  return base;
}

const stateWith = (ports: Record<string, number>): PersistedState => ({
  registry: { nodes: [], services: [], checks: [], preparedQueries: [], ttlStates: {} },
  proxyPorts: ports,
});

/** Reads the file as a restarted server would, without opening (opening cleans temp files of in-flight writes). */
function readDirect(dir: string): PersistedState {
  const file = join(dir, STATE_FILE_NAME);
  return parseEnvelope(readFileSync(file, 'utf8'), file).payload as PersistedState;
}

function assertPersistError(err: unknown, code: string, errno?: string): PersistError {
  assert.ok(err instanceof PersistError, `expected PersistError, got ${String(err)}`);
  assert.equal(err.code, code);
  if (errno) assert.equal(err.errno, errno, err.message);
  return err;
}

describe('persist state file', () => {
  it('with no file yet, load gives undefined and the missing data dir is created private (0700)', (t) => {
    const dir = join(tempBase(t), 'a', 'b', 'data');
    const sf = openStateFile(dir, () => stateWith({}), createLogSink().logger);
    assert.equal(sf.load(), undefined);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(sf.file, join(dir, STATE_FILE_NAME));
  });

  it('API registrations, TTL states, prepared queries and proxy ports survive a restart', async (t) => {
    const dir = tempBase(t);
    const before = sampleRegistry();
    await openStateFile(dir, () => ({ registry: before.exportState(), proxyPorts: sampleProxyPorts() }), createLogSink().logger).save();
    assert.equal(statSync(join(dir, STATE_FILE_NAME)).mode & 0o777, 0o600);

    // A restarted server: the config catalog first, then the persisted state on top.
    const sink = createLogSink();
    const after = createRegistry(configInput());
    const loaded = openStateFile(dir, () => ({ registry: after.exportState(), proxyPorts: {} }), sink.logger).load();
    assert.ok(loaded);
    after.restoreState(loaded.registry);
    assert.deepEqual(loaded.proxyPorts, sampleProxyPorts());
    const snap = after.current();
    assert.deepEqual(snap.connectEndpoints('redis').map((v) => [v.instance.id, v.instance.port, v.status]), [['redis-proxy', 21000, 'critical']]);
    assert.deepEqual(snap.serviceInstances('redis-proxy')[0]?.instance.meta, { owner: 'team "db"' });
    assert.equal(snap.serviceInstances('web')[0]?.status, 'warning');
    assert.equal(snap.preparedQuery('redis-near')?.service.tags.join(','), 'primary,!legacy');
    assert.equal(snap.node('db2')?.meta['rack'], 'r7');
    assert.deepEqual(after.exportState(), before.exportState());
    assert.equal(sink.find(/state loaded/)?.['services'], 1);
  });

  it('concurrent saves coalesce: 10 saves during a write make 2 writes, each resolving after its data is on disk', async (t) => {
    const dir = tempBase(t);
    let writes = 0;
    let seq = 0;
    let markStarted = (): void => undefined;
    const started = new Promise<void>((r) => { markStarted = r; });
    const sf = openStateFile(dir, () => { writes += 1; markStarted(); return stateWith({ last: seq }); }, createLogSink().logger);
    seq = 1;
    const seen: Promise<[number, number]>[] = [sf.save().then(() => [1, readDirect(dir).proxyPorts['last'] ?? 0])];
    await started;
    for (let i = 2; i <= 10; i++) {
      seq = i;
      const mine = i;
      seen.push(sf.save().then(() => [mine, readDirect(dir).proxyPorts['last'] ?? 0]));
    }
    const results = await Promise.all(seen);
    for (const [asked, onDisk] of results) assert.ok(onDisk >= asked, `save ${asked} resolved with ${onDisk} on disk`);
    assert.equal(writes, 2);
    assert.equal(readDirect(dir).proxyPorts['last'], 10);
  });

  it('a refused write rejects with the errno, keeps the old file, leaves no temp file, and later saves work again', async (t) => {
    const base = tempBase(t);
    const dir = join(base, 'data');
    let port = 1;
    const sink = createLogSink();
    const sf = openStateFile(dir, () => stateWith({ p: port }), sink.logger);
    await sf.save();
    // The data dir is swapped for a plain file between open and save (what a broken mount looks like to us).
    renameSync(dir, join(base, 'moved'));
    writeFileSync(dir, 'not a dir');
    port = 2;
    const err = await sf.save().then(() => undefined, (e: unknown) => e);
    const failure = assertPersistError(err, ErrorCode.PERSIST_FAILED, 'ENOTDIR');
    assert.match(failure.message, new RegExp(`${STATE_FILE_NAME}: .*ENOTDIR`));
    assert.equal(sink.find(/state write failed/)?.['errno'], 'ENOTDIR');
    rmSync(dir);
    renameSync(join(base, 'moved'), dir);
    assert.deepEqual(readdirSync(dir), [STATE_FILE_NAME]);
    assert.deepEqual(openStateFile(dir, () => stateWith({}), sink.logger).load()?.proxyPorts, { p: 1 });
    port = 3;
    await sf.save();
    assert.deepEqual(readDirect(dir).proxyPorts, { p: 3 });
  });

  it('a save queued behind a failing one still writes, and a state that cannot be serialized is refused', async (t) => {
    const dir = tempBase(t);
    let mode: 'ok' | 'throw' = 'throw';
    let port = 5;
    const sf = openStateFile(dir, () => { if (mode === 'throw') throw new Error('boom'); return stateWith({ p: port }); }, createLogSink().logger);
    const first = sf.save();
    const second = sf.save();
    assert.equal(first, second);
    await assert.rejects(first, (e: unknown) => !!assertPersistError(e, ErrorCode.PERSIST_FAILED));
    mode = 'ok';
    await sf.save();
    assert.deepEqual(readDirect(dir).proxyPorts, { p: 5 });
    mode = 'throw';
    port = 6;
    await assert.rejects(sf.save(), (e: unknown) => !!assertPersistError(e, ErrorCode.PERSIST_FAILED));
    assert.deepEqual(readDirect(dir).proxyPorts, { p: 5 });
  });

  it('a data dir that cannot exist (its parent is a file, or it is a file) fails at open with the errno', (t) => {
    const base = tempBase(t);
    writeFileSync(join(base, 'file'), '');
    const logger = createLogSink().logger;
    assert.throws(() => openStateFile(join(base, 'file', 'data'), () => stateWith({}), logger),
      (e: unknown) => !!assertPersistError(e, ErrorCode.PERSIST_FAILED, 'ENOTDIR'));
    assert.throws(() => openStateFile(join(base, 'file'), () => stateWith({}), logger),
      (e: unknown) => !!assertPersistError(e, ErrorCode.PERSIST_FAILED, 'EEXIST'));
  });

  it('a dir the server may not write (EACCES) rejects the save and the old file still loads', async (t) => {
    const base = tempBase(t);
    const dir = join(base, 'data');
    await openStateFile(dir, () => stateWith({ owner: 1 }), createLogSink().logger).save();
    chmodSync(base, 0o755);
    chmodSync(dir, 0o555);
    let outcome: { ok: boolean; isPersistError?: boolean; code?: string; errno?: string; message?: string };
    if (process.getuid?.() === 0) {
      // chmod does not stop root, so the write is attempted by a child running as nobody.
      const child = await run(process.execPath, ['--import', 'tsx', 'test/fixtures/persist/save-once.ts', dir],
        { cwd: ROOT, uid: 65534, gid: 65534, timeout: 15_000, env: { ...process.env, HOME: base } });
      outcome = JSON.parse(child.stdout) as typeof outcome;
    } else {
      const err = await openStateFile(dir, () => stateWith({ child: 1 }), createLogSink().logger).save().then(() => undefined, (e: unknown) => e);
      const e = assertPersistError(err, ErrorCode.PERSIST_FAILED);
      outcome = { ok: false, isPersistError: true, code: e.code, errno: e.errno ?? '', message: e.message };
    }
    chmodSync(dir, 0o700);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.isPersistError, true);
    assert.equal(outcome.code, ErrorCode.PERSIST_FAILED);
    assert.equal(outcome.errno, 'EACCES');
    assert.match(outcome.message ?? '', /EACCES/);
    assert.deepEqual(openStateFile(dir, () => stateWith({}), createLogSink().logger).load()?.proxyPorts, { owner: 1 });
  });

  it('temp files of a write interrupted by a crash are removed at open, with a warning, and the state still loads', (t) => {
    const dir = tempBase(t);
    writeFileSync(join(dir, STATE_FILE_NAME), readFileSync(GOLDEN));
    writeFileSync(join(dir, `${STATE_FILE_NAME}.tmp-4242-7`), '{"format":"connect-dns/1","payl');
    writeFileSync(join(dir, 'unrelated.txt'), 'kept');
    const sink = createLogSink();
    const sf = openStateFile(dir, () => stateWith({}), sink.logger);
    assert.deepEqual(readdirSync(dir).sort(), [STATE_FILE_NAME, 'unrelated.txt']);
    assert.deepEqual(sink.find(/interrupted state write/)?.['removed'], [`${STATE_FILE_NAME}.tmp-4242-7`]);
    assert.equal(sf.load()?.registry.services[0]?.id, 'redis-proxy');
  });

  it('a damaged state file makes load throw naming the file, and the file is left as it was', (t) => {
    const golden = readFileSync(GOLDEN, 'utf8');
    const damaged: [string, string, RegExp][] = [
      ['truncated', golden.slice(0, Math.floor(golden.length / 2)), /not valid JSON/],
      ['bad checksum', golden.replace('"rack":"r7"', '"rack":"r8"'), /checksum mismatch/],
      ['foreign', '{"Node":"n1","Services":[]}', /not a connect-dns state file/],
      ['empty', '', /empty/],
    ];
    for (const [label, text, reason] of damaged) {
      const dir = join(tempBase(t), label.replace(' ', '-'));
      mkdirSync(dir);
      const file = join(dir, STATE_FILE_NAME);
      writeFileSync(file, text);
      const sf = openStateFile(dir, () => stateWith({}), createLogSink().logger);
      assert.throws(() => sf.load(), (e: unknown) => {
        const err = assertPersistError(e, ErrorCode.PERSIST_CORRUPT);
        assert.equal(err.file, file, label);
        assert.ok(err.message.includes(file), label);
        assert.match(err.reason, reason, label);
        return true;
      });
      assert.equal(readFileSync(file, 'utf8'), text, `${label}: left untouched`);
    }
  });
});
