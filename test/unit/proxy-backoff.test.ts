// Restart back-off: three quick starts go at once, then waits double from min to max; a healthy run resets it.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { INITIAL_BACKOFF, nextStart, type BackoffState } from '../../src/proxy/backoff.js';

const opts = { minMs: 1000, maxMs: 60_000, healthyAfterMs: 10_000 };

it('waits only after three quick exits, doubling up to the maximum', () => {
  let state: BackoffState = INITIAL_BACKOFF;
  let now = 0;
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    const next = nextStart(state, now, opts);
    delays.push(next.delayMs);
    state = next.state;
    now += next.delayMs + 50; // each run dies 50 ms after it starts
  }
  assert.deepEqual(delays, [0, 0, 0, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000]);
});

it('a run that lasted past healthyAfterMs starts the count again', () => {
  let state: BackoffState = INITIAL_BACKOFF;
  for (let i = 0; i < 6; i++) state = nextStart(state, i * 10, opts).state;
  assert.ok(nextStart(state, 100, opts).delayMs > 0);
  const last = state.lastStart ?? 0;
  const later = nextStart(state, last + opts.healthyAfterMs, opts);
  assert.equal(later.delayMs, 0);
  assert.equal(later.state.attempts, 1);
});
