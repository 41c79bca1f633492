// Worker metrics: counted per label set in the worker, replayed event by event into the primary's hooks.
import assert from 'node:assert/strict';
import { deserialize, serialize } from 'node:v8';
import { describe, it } from 'node:test';
import { createMetricsRecorder, replayMetrics } from '../../src/cluster/metrics-relay.js';
import type { DnsMetrics } from '../../src/metrics/types.js';

function recordingSink(): { metrics: DnsMetrics; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    metrics: {
      query: (...a) => calls.push(`query ${a.join(' ')}`),
      dropped: (...a) => calls.push(`dropped ${a.join(' ')}`),
      forwardCache: (o) => calls.push(`cache ${o}`),
      upstream: (...a) => calls.push(`upstream ${a.join(' ')}`),
      upstreamHealth: (...a) => calls.push(`health ${a.join(' ')}`),
      catalog: (...a) => calls.push(`catalog ${a.join(' ')}`),
    },
  };
}

describe('cluster metrics relay', () => {
  it('every event recorded in a worker reaches the primary\'s hooks once, with its labels', () => {
    const rec = createMetricsRecorder();
    for (let i = 0; i < 3; i++) rec.metrics.query('domain', 33, 0, 'udp', 0.000041, 'hit');
    rec.metrics.query('forward', 1, 3, 'tcp', 0.0123, 'none');
    rec.metrics.dropped('qr-set', 'udp');
    rec.metrics.dropped('qr-set', 'udp');
    rec.metrics.forwardCache('hit');
    rec.metrics.forwardCache('miss');
    rec.metrics.upstream('127.0.0.1#53', 'timeout', 2.0004);
    const batch = rec.take();
    assert.ok(batch);
    const sink = recordingSink();
    replayMetrics(deserialize(serialize(batch)) as typeof batch, sink.metrics);
    assert.deepEqual(sink.calls.sort(), [
      'cache hit', 'cache miss',
      'dropped qr-set udp', 'dropped qr-set udp',
      'query domain 33 0 udp 0.000041 hit', 'query domain 33 0 udp 0.000041 hit', 'query domain 33 0 udp 0.000041 hit',
      'query forward 1 3 tcp 0.012 none',
      'upstream 127.0.0.1#53 timeout 2',
    ]);
  });

  it('a take empties the recorder; nothing recorded means no batch to send', () => {
    const rec = createMetricsRecorder();
    assert.equal(rec.take(), undefined);
    rec.metrics.query('domain', 1, 0, 'udp', 0.00002, 'miss');
    assert.equal(rec.take()?.queries.length, 1);
    assert.equal(rec.take(), undefined);
  });
});
