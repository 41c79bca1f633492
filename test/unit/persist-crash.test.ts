// SIGKILL at random moments (seeded) while a child saves in a tight loop: the file always loads, no ack is lost.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isTempOf } from '../../src/persist/atomic-write.js';
import { openStateFile, STATE_FILE_NAME } from '../../src/persist/state-file.js';
import { createLogSink } from '../helpers/log-sink.js';
import { seededRandom } from '../helpers/reference-catalog.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KILLS = 30;
const BUDGET_MS = 20_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Run {
  readonly ready: number | undefined;
  readonly lastAcked: number;
}

/** Starts the save loop, kills it with SIGKILL after the chosen moment, and returns what it acknowledged. */
async function runAndKill(dir: string, killBeforeReadyMs: number | undefined, killAfterReadyMs: number): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/persist/save-loop.ts', dir], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let ready: number | undefined;
  let lastAcked = 0;
  let buffered = '';
  let stderr = '';
  let onReady = (): void => undefined;
  const readySeen = new Promise<void>((r) => { onReady = r; });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^ready (\d+)$/.exec(line);
      if (m) {
        ready = Number(m[1]);
        onReady();
      } else if (/^\d+$/.test(line)) lastAcked = Number(line);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  if (killBeforeReadyMs !== undefined) {
    await Promise.race([readySeen, sleep(killBeforeReadyMs)]);
  } else {
    await Promise.race([readySeen, closed, sleep(5000)]);
    assert.notEqual(ready, undefined, `the child did not start: ${stderr}`);
    await sleep(killAfterReadyMs);
  }
  child.kill('SIGKILL');
  const code = await closed;
  assert.equal(code, null, `the child must die by the signal, not exit on its own: ${stderr}`);
  return { ready, lastAcked };
}

describe('persist crash safety', () => {
  it('after SIGKILL at any moment the state file loads and holds every acknowledged save', { timeout: 40_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cdns-crash-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // Seeded, so a failing run can be replayed with the same kill moments.
    const rand = seededRandom(0xc0ffee);
    const deadline = Date.now() + BUDGET_MS;
    let acked = 0;
    let onDisk = 0;
    let kills = 0;
    let killsWithTempLeft = 0;
    while (kills < KILLS && Date.now() < deadline) {
      // One kill in five lands during start-up (open, temp cleanup, load); the rest inside the save loop.
      const early = rand() < 0.2 ? rand() * 300 : undefined;
      const run = await runAndKill(dir, early, rand() * 40);
      kills += 1;
      if (run.ready !== undefined) assert.ok(run.ready >= acked, `kill ${kills}: the child started from ${run.ready}, below ack ${acked}`);
      acked = Math.max(acked, run.lastAcked);
      if (readdirSync(dir).some((n) => isTempOf(STATE_FILE_NAME, n))) killsWithTempLeft += 1;

      const state = openStateFile(dir, () => { throw new Error('read only'); }, createLogSink().logger).load();
      const services = state?.registry.services ?? [];
      const seq = Number(services.at(-1)?.meta['seq'] ?? 0);
      assert.ok(seq >= acked, `kill ${kills}: file holds ${seq}, but ${acked} was acknowledged`);
      assert.ok(seq >= onDisk, `kill ${kills}: file went back from ${onDisk} to ${seq}`);
      // The content is whole, not just parseable: the latest 50 instances in order, and the matching port entry.
      assert.deepEqual(services.map((s) => Number(s.meta['seq'])), Array.from({ length: Math.min(50, seq) }, (_, i) => seq - Math.min(50, seq) + 1 + i));
      if (seq > 0) assert.equal(state?.proxyPorts[`proxy-${seq}`], 1 + (seq % 65535));
      onDisk = seq;
    }
    t.diagnostic(`kills=${kills} acknowledged=${acked} onDisk=${onDisk} killsWithTempLeft=${killsWithTempLeft}`);
    assert.ok(kills >= 10, `only ${kills} kills fit in the time budget`);
    assert.ok(acked > 0, 'no save was ever acknowledged, so nothing was tested');
    // Proof that kills landed inside writes (between temp creation and rename), the moments that matter.
    assert.ok(killsWithTempLeft > 0, 'no kill interrupted a write');
    assert.deepEqual(readdirSync(dir), [STATE_FILE_NAME], 'opening removed every leftover temp file');
  });
});
