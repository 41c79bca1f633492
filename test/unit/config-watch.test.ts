// watchConfig: a reload is asked for when what the loader would read changes, and only then.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchConfig, type WatchOptions } from '../../src/config/watch.js';

/** Long enough for several debounce periods, so a call that was going to come has come. */
const SETTLE_MS = 400;
const WITHIN_MS = 3000;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdns-watch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface Calls {
  readonly count: number;
  /** Resolves once `n` calls have happened in total; fails after WITHIN_MS. */
  reach(n: number): Promise<void>;
}

function start(t: TestContext, sources: { files: string[]; dirs: string[] }, opts: WatchOptions = {}): Calls {
  let count = 0;
  const waiters = new Set<() => void>();
  const w = watchConfig(sources, () => {
    count++;
    for (const f of waiters) f();
  }, { debounceMs: 20, rescanMs: 60_000, ...opts });
  t.after(() => w.close());
  return {
    get count() { return count; },
    reach(n) {
      if (count >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`expected ${n} calls within ${WITHIN_MS} ms, got ${count}`)); }, WITHIN_MS);
        const check = (): void => {
          if (count < n) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
  };
}

test('editing, adding and removing a file in a watched dir each ask for one reload', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'a.json'), '{"datacenter":"one"}');
  const calls = start(t, { files: [], dirs: [dir] });
  await writeFile(path.join(dir, 'a.json'), '{"datacenter":"two"}');
  await calls.reach(1);
  await writeFile(path.join(dir, 'b.hcl'), 'node_name = "n"\n');
  await calls.reach(2);
  await unlink(path.join(dir, 'a.json'));
  await calls.reach(3);
  await sleep(SETTLE_MS);
  assert.equal(calls.count, 3, 'one reload per change (debounced)');
});

test('an atomic replace (write a temp file, rename over) is seen, and so is the edit after it', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'svc.json');
  await writeFile(file, '{"services":[]}');
  const calls = start(t, { files: [], dirs: [dir] });
  await writeFile(`${file}.tmp`, '{"services":[{"name":"web"}]}');
  await rename(`${file}.tmp`, file);
  await calls.reach(1);
  await writeFile(file, '{"services":[{"name":"api"}]}');
  await calls.reach(2);
});

test('a --config-file is watched through its directory: atomic replaces keep working; siblings do not count', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'agent.json');
  await writeFile(file, '{"datacenter":"one"}');
  const calls = start(t, { files: [file], dirs: [] });
  await writeFile(path.join(dir, 'other.json'), '{"datacenter":"x"}');
  await sleep(SETTLE_MS);
  assert.equal(calls.count, 0, 'a sibling file is not part of the config');
  for (let i = 1; i <= 2; i++) {
    await writeFile(path.join(dir, 'agent.json.new'), `{"datacenter":"v${i}"}`);
    await rename(path.join(dir, 'agent.json.new'), file);
    await calls.reach(i);
  }
});

test('rewriting the same content, touching non-config files, or a sub-directory asks for nothing', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'a.json'), '{"datacenter":"one"}');
  const calls = start(t, { files: [], dirs: [dir] });
  await writeFile(path.join(dir, 'a.json'), '{"datacenter":"one"}');
  await writeFile(path.join(dir, 'a.json.tmp'), 'junk');
  await writeFile(path.join(dir, 'README.md'), '# notes');
  await mkdir(path.join(dir, 'sub.json'));
  await sleep(SETTLE_MS);
  assert.equal(calls.count, 0);
  // The watcher is alive: a real change right after is still seen, exactly once.
  await writeFile(path.join(dir, 'a.json'), '{"datacenter":"two"}');
  await calls.reach(1);
  await sleep(SETTLE_MS);
  assert.equal(calls.count, 1);
});

test('a removed dir is a change, never a throw; when it comes back the rescan watches it again', async (t) => {
  const parent = await tempDir(t);
  const dir = path.join(parent, 'conf');
  await mkdir(dir);
  await writeFile(path.join(dir, 'a.json'), '{}');
  const calls = start(t, { files: [], dirs: [dir] }, { rescanMs: 50 });
  await rm(dir, { recursive: true });
  await calls.reach(1);
  await mkdir(dir);
  await writeFile(path.join(dir, 'a.json'), '{"datacenter":"back"}');
  await calls.reach(2);
  // Re-attached: a later edit is seen as well.
  await writeFile(path.join(dir, 'a.json'), '{"datacenter":"again"}');
  await calls.reach(3);
});

test('a dir missing at start is logged once, watched once it appears; close() stops every call', async (t) => {
  const parent = await tempDir(t);
  const dir = path.join(parent, 'later');
  let count = 0;
  const warnings: unknown[] = [];
  const logger = { warn: (obj: unknown) => { warnings.push(obj); } } as unknown as WatchOptions['logger'];
  const w = watchConfig({ files: [], dirs: [dir] }, () => { count++; }, { debounceMs: 20, rescanMs: 50, ...(logger ? { logger } : {}) });
  t.after(() => w.close());
  await sleep(300);
  assert.equal(warnings.length, 1, 'one warning, not one per rescan');
  assert.equal(count, 0);
  await mkdir(dir);
  await writeFile(path.join(dir, 'a.json'), '{}');
  for (let i = 0; i < 60 && count === 0; i++) await sleep(50);
  assert.ok(count >= 1, 'the new dir was noticed');
  w.close();
  const before = count;
  await writeFile(path.join(dir, 'a.json'), '{"datacenter":"after-close"}');
  await sleep(SETTLE_MS);
  assert.equal(count, before);
});
