// Injected fs faults (ENOSPC, EROFS, EIO) at every step of a durable write: clear error, whole file, retried.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ErrorCode } from '../../src/errors.js';
import { nodeDurableFs, type DurableFs } from '../../src/persist/durable-fs.js';
import { parseEnvelope } from '../../src/persist/envelope.js';
import { PersistError } from '../../src/persist/persist-error.js';
import { openStateFile, STATE_FILE_NAME, type PersistedState } from '../../src/persist/state-file.js';
import { createLogSink } from '../helpers/log-sink.js';
import { waitUntil } from '../helpers/wait.js';

const STEPS = ['create', 'write', 'fsync', 'close', 'rename', 'dir-fsync'] as const;
type Step = (typeof STEPS)[number];
const OPERATION: Record<Step, string> = {
  create: 'creating the temp file', write: 'writing', fsync: 'fsync', close: 'closing',
  rename: 'renaming over the old file', 'dir-fsync': 'fsync of the directory',
};
const ERRNOS = ['ENOSPC', 'EROFS', 'EIO'] as const;

const stateWith = (p: number): PersistedState => ({
  registry: { nodes: [], services: [], checks: [], preparedQueries: [], ttlStates: {} },
  proxyPorts: { p },
});

function sysError(errno: string, step: Step): Error {
  return Object.assign(new Error(`${errno}: injected at ${step}`), { code: errno });
}

/** node:fs with a switchable fault; a failing write first writes half its bytes, as a short write on a full disk does. */
function faultyFs(): { fs: DurableFs; fault: { step: Step; errno: string } | undefined; calls: Step[] } {
  const ctl: { fs: DurableFs; fault: { step: Step; errno: string } | undefined; calls: Step[] } = { fs: nodeDurableFs, fault: undefined, calls: [] };
  const hit = (step: Step): void => {
    ctl.calls.push(step);
    if (ctl.fault?.step === step) throw sysError(ctl.fault.errno, step);
  };
  ctl.fs = {
    async createExclusive(path) {
      hit('create');
      const h = await nodeDurableFs.createExclusive(path);
      return {
        async writeFile(text) {
          if (ctl.fault?.step === 'write') await h.writeFile(text.slice(0, text.length >> 1));
          hit('write');
          await h.writeFile(text);
        },
        async sync() { hit('fsync'); await h.sync(); },
        async close() {
          // The real handle is always closed, so a failed close leaks no descriptor.
          await h.close();
          hit('close');
        },
      };
    },
    async rename(from, to) { hit('rename'); await nodeDurableFs.rename(from, to); },
    remove: (path) => nodeDurableFs.remove(path),
    async syncDir(dir) { hit('dir-fsync'); await nodeDurableFs.syncDir(dir); },
  };
  return ctl;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-faults-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const readPorts = (dir: string): Readonly<Record<string, number>> => {
  const file = join(dir, STATE_FILE_NAME);
  return (parseEnvelope(readFileSync(file, 'utf8'), file).payload as PersistedState).proxyPorts;
};

describe('persist under injected fs faults', () => {
  for (const errno of ERRNOS) {
    for (const step of STEPS) {
      it(`${errno} at ${step}: rejects with file, operation and errno; the final name holds a whole file; no temp is left`, async (t) => {
        const dir = tempDir(t);
        const ctl = faultyFs();
        const sink = createLogSink('debug');
        const errors: PersistError[] = [];
        let p = 1;
        // A long first retry: this test looks at one failure; retries are the next test's subject.
        const sf = openStateFile(dir, () => stateWith(p), sink.logger, { fs: ctl.fs, retry: { firstMs: 60_000, maxMs: 60_000 }, onWriteError: (e) => errors.push(e) });
        t.after(() => sf.close());
        await sf.save();
        const oldBytes = readFileSync(join(dir, STATE_FILE_NAME));

        ctl.fault = { step, errno };
        p = 2;
        const err = await sf.save().then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof PersistError, `expected PersistError, got ${String(err)}`);
        assert.equal(err.code, ErrorCode.PERSIST_FAILED);
        assert.equal(err.errno, errno);
        assert.equal(err.operation, OPERATION[step]);
        assert.equal(err.file, join(dir, STATE_FILE_NAME));
        assert.match(err.message, new RegExp(`${STATE_FILE_NAME}: ${OPERATION[step]} failed: ${errno}`));
        assert.ok(ctl.calls.includes(step), `the fault at ${step} was reached`);
        assert.deepEqual(errors.map((e) => e.errno), [errno], 'onWriteError saw the failure');
        assert.equal(sf.failing(), err);

        assert.deepEqual(readdirSync(dir), [STATE_FILE_NAME], 'no temp file is left behind');
        if (step === 'dir-fsync') {
          // The rename happened: the new file is whole at the final name; only its entry's durability is unknown.
          assert.deepEqual(readPorts(dir), { p: 2 });
        } else {
          assert.deepEqual(readFileSync(join(dir, STATE_FILE_NAME)), oldBytes, 'the old file is untouched');
        }
        const logged = sink.lines.filter((l) => l['level'] === 50);
        assert.equal(logged.length, 1, 'one error line');
        assert.equal(logged[0]?.['file'], join(dir, STATE_FILE_NAME));
        assert.equal(logged[0]?.['operation'], OPERATION[step]);
        assert.equal(logged[0]?.['errno'], errno);
      });
    }
  }

  it('an episode is logged once, retried with back-off on its own, and ends with one recovery line', async (t) => {
    const dir = tempDir(t);
    const ctl = faultyFs();
    const sink = createLogSink('debug');
    const errors: string[] = [];
    let p = 1;
    const sf = openStateFile(dir, () => stateWith(p), sink.logger, {
      fs: ctl.fs, retry: { firstMs: 5, maxMs: 20 }, onWriteError: (e) => errors.push(e.errno ?? ''),
    });
    t.after(() => sf.close());
    await sf.save();
    ctl.fault = { step: 'write', errno: 'ENOSPC' };
    p = 2;
    await assert.rejects(sf.save(), /ENOSPC/);
    // API writes during the episode fail too, and are not logged again at error level.
    p = 3;
    await assert.rejects(sf.save(), /ENOSPC/);
    await waitUntil('the persister retries by itself', () => errors.length >= 5, 10_000);
    assert.deepEqual(readPorts(dir), { p: 1 }, 'nothing partial reached the final name');
    assert.equal(sink.lines.filter((l) => l['level'] === 50).length, 1, 'the episode is logged once at error level');
    assert.ok(sink.lines.filter((l) => l['msg'] === 'state write failed again').length >= 4, 'repeats go to debug');

    ctl.fault = undefined; // space is back
    await waitUntil('a retry succeeds once space is back', () => sf.failing() === undefined, 10_000);
    assert.deepEqual(readPorts(dir), { p: 3 }, 'the retry wrote the latest state, with no API call');
    const recovered = sink.lines.filter((l) => typeof l['msg'] === 'string' && /succeeded again/.test(l['msg']));
    assert.equal(recovered.length, 1);
    assert.ok((recovered[0]?.['failures'] as number) >= 5);
    const settled = errors.length;
    const writes = ctl.calls.filter((c) => c === 'rename').length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(errors.length, settled, 'no failure after the recovery');
    assert.equal(ctl.calls.filter((c) => c === 'rename').length, writes, 'no retry after the recovery');

    // A second episode is a new episode: logged once more.
    ctl.fault = { step: 'rename', errno: 'EROFS' };
    await assert.rejects(sf.save(), /EROFS/);
    assert.equal(sink.lines.filter((l) => l['level'] === 50).length, 2);
    assert.equal(sink.lines.filter((l) => l['level'] === 50)[1]?.['errno'], 'EROFS');
  });

  it('close stops the retries', async (t) => {
    const dir = tempDir(t);
    const ctl = faultyFs();
    let failures = 0;
    const sf = openStateFile(dir, () => stateWith(1), createLogSink().logger, {
      fs: ctl.fs, retry: { firstMs: 5, maxMs: 5 }, onWriteError: () => { failures += 1; },
    });
    ctl.fault = { step: 'create', errno: 'EROFS' };
    await assert.rejects(sf.save(), /EROFS/);
    await waitUntil('retries', () => failures >= 3, 10_000);
    sf.close();
    const at = failures;
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(failures <= at + 1, `retries stopped (${at} → ${failures})`);
    t.diagnostic(`failures before close ${at}, after ${failures}`);
  });
});
