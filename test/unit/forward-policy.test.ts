// Forwarding policy: upstream order, the default answer budget and the warn rate limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createWarnLimiter, defaultBudgetMs, orderUpstreams } from '../../src/forward/policy.js';

test('sequential keeps the configured order; random is a permutation that varies', () => {
  const ups = ['a', 'b', 'c', 'd'];
  assert.deepEqual(orderUpstreams(ups, 'sequential'), ups);
  const firsts = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const order = orderUpstreams(ups, 'random');
    assert.deepEqual([...order].sort(), ups, 'every upstream exactly once');
    firsts.add(order[0] ?? '');
  }
  assert.equal(firsts.size, 4, 'each upstream comes first sometimes');
  assert.deepEqual(ups, ['a', 'b', 'c', 'd'], 'the input is not mutated');
});

test('default budget: two tries per upstream, capped at 4 s so stubs see SERVFAIL before their 5 s', () => {
  assert.equal(defaultBudgetMs(300, 2), 1200);
  assert.equal(defaultBudgetMs(2000, 1), 4000);
  assert.equal(defaultBudgetMs(2000, 3), 4000);
});

test('warn limiter: one warning per key per interval, reporting how many were held back', () => {
  let now = 0;
  const limit = createWarnLimiter(1000, () => now);
  assert.deepEqual(limit('a'), { warn: true, suppressed: 0 });
  assert.deepEqual(limit('a'), { warn: false, suppressed: 0 });
  assert.deepEqual(limit('b'), { warn: true, suppressed: 0 }, 'keys are independent');
  now = 500;
  assert.equal(limit('a').warn, false);
  now = 1000;
  assert.deepEqual(limit('a'), { warn: true, suppressed: 2 });
});
