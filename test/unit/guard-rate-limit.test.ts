// Response rate limiting: the token bucket per client network (injected clock), its slip pattern and its bounded table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { networkKey } from '../../src/guard/client-network.js';
import { createRateLimiter, RateDecision, type RateLimiterOptions } from '../../src/guard/rate-limit.js';

const { PASS, DROP, SLIP } = RateDecision;

function limiter(over: Partial<RateLimiterOptions> = {}) {
  let t = 1000;
  const rl = createRateLimiter({
    responsesPerSecond: 5, burst: 5, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, now: () => t, ...over,
  });
  return { rl, advance: (ms: number) => { t += ms; } };
}

const run = (check: () => RateDecision, n: number): RateDecision[] => Array.from({ length: n }, check);

describe('rate limiter', () => {
  it('a burst passes, then limited responses drop and every slip-th one slips', () => {
    const { rl } = limiter();
    const got = run(() => rl.check('192.0.2.1'), 11);
    assert.deepEqual(got, [PASS, PASS, PASS, PASS, PASS, DROP, SLIP, DROP, SLIP, DROP, SLIP]);
  });

  it('tokens refill at the rate, never above the burst', () => {
    const { rl, advance } = limiter();
    run(() => rl.check('192.0.2.1'), 5);
    assert.notEqual(rl.check('192.0.2.1'), PASS, 'the burst is spent');
    advance(200); // 5/s: one token
    assert.equal(rl.check('192.0.2.1'), PASS);
    assert.notEqual(rl.check('192.0.2.1'), PASS);
    advance(100); // half a token
    assert.notEqual(rl.check('192.0.2.1'), PASS);
    advance(100);
    assert.equal(rl.check('192.0.2.1'), PASS, 'two halves make a token');
    advance(60_000); // a minute idle refills to the burst, not to 300
    assert.equal(run(() => rl.check('192.0.2.1'), 6).filter((d) => d === PASS).length, 5);
  });

  it('over a window, passes are at most burst + rate × elapsed', () => {
    const { rl, advance } = limiter({ responsesPerSecond: 10, burst: 3 });
    let passed = 0;
    for (let i = 0; i < 200; i++) { // 2 s at one query per 10 ms
      if (rl.check('198.51.100.9') === PASS) passed++;
      advance(10);
    }
    assert.ok(passed <= 3 + 10 * 2, `${passed} passed`);
    assert.ok(passed >= 10 * 2, `${passed} passed: the rate itself is served`);
  });

  it('slip 0 drops every limited response; slip 1 slips every one; burst 0 still lets one through', () => {
    const drop = limiter({ slip: 0, burst: 1 }).rl;
    assert.deepEqual(run(() => drop.check('192.0.2.1'), 4), [PASS, DROP, DROP, DROP]);
    const slip = limiter({ slip: 1, burst: 1 }).rl;
    assert.deepEqual(run(() => slip.check('192.0.2.1'), 4), [PASS, SLIP, SLIP, SLIP]);
    const zero = limiter({ burst: 0 }).rl;
    assert.equal(zero.check('192.0.2.1'), PASS);
    assert.notEqual(zero.check('192.0.2.1'), PASS);
  });

  it('clients share a bucket per /24 (IPv4) and /56 (IPv6); IPv4-mapped counts as IPv4', () => {
    const { rl } = limiter({ burst: 2, slip: 0 });
    assert.equal(rl.check('203.0.113.1'), PASS);
    assert.equal(rl.check('::ffff:203.0.113.200'), PASS);
    assert.equal(rl.check('203.0.113.77'), DROP, 'the same /24, whichever socket family it came through');
    assert.equal(rl.check('203.0.114.1'), PASS, 'the next /24 has its own bucket');
    assert.equal(rl.check('2001:db8:0:ff::1'), PASS);
    assert.equal(rl.check('2001:db8:0:1::2'), PASS);
    assert.equal(rl.check('2001:db8:0:80::3'), DROP, 'the same /56');
    assert.equal(rl.check('2001:db8:0:100::1'), PASS, 'the next /56');
    assert.equal(rl.networks, 4);
  });

  it('the table of networks is bounded: the oldest bucket goes', () => {
    const { rl } = limiter({ burst: 1, slip: 0, maxNetworks: 3 });
    assert.equal(rl.check('10.0.1.1'), PASS);
    assert.equal(rl.check('10.0.1.1'), DROP);
    for (let i = 2; i < 1000; i++) rl.check(`10.${i >> 8}.${i & 255}.1`);
    assert.ok(rl.networks <= 3, `${rl.networks} networks kept`);
    assert.equal(rl.check('10.0.1.1'), PASS, 'an evicted network starts again with a full bucket');
  });

  it('anything but an IP literal is not limited', () => {
    const { rl } = limiter({ burst: 1, slip: 0 });
    assert.deepEqual(run(() => rl.check('not-an-ip'), 3), [PASS, PASS, PASS]);
    assert.equal(rl.networks, 0);
  });

  it('a rate of 0 is refused: "off" means no limiter at all', () => {
    assert.throws(() => createRateLimiter({ responsesPerSecond: 0, burst: 0, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56 }), RangeError);
  });
});

describe('client network keys', () => {
  it('IPv4 keys by prefix, with the mapped and hex forms equal to the dotted one', () => {
    assert.equal(networkKey('10.1.2.3', 24, 56), networkKey('10.1.2.250', 24, 56));
    assert.notEqual(networkKey('10.1.2.3', 24, 56), networkKey('10.1.3.3', 24, 56));
    assert.equal(networkKey('10.1.2.3', 32, 56), 0x0a010203);
    assert.equal(networkKey('10.1.2.3', 8, 56), 10);
    assert.equal(networkKey('::ffff:10.1.2.3', 24, 56), networkKey('10.1.2.3', 24, 56));
    assert.equal(networkKey('::ffff:a01:203', 24, 56), networkKey('10.1.2.3', 24, 56));
  });

  it('IPv6 keys by prefix, including prefixes that end inside a byte', () => {
    assert.equal(networkKey('2001:db8::1', 56, 56), networkKey('2001:db8:0:ff::', 24, 56));
    assert.notEqual(networkKey('2001:db8::1', 24, 56), networkKey('2001:db8:0:100::', 24, 56));
    assert.equal(networkKey('2001:db8::1', 24, 60), networkKey('2001:db8:0:f::1', 24, 60));
    assert.notEqual(networkKey('2001:db8::1', 24, 60), networkKey('2001:db8:0:10::1', 24, 60));
    assert.equal(networkKey('::1', 24, 128), '6:00000000000000000000000000000001');
    assert.notEqual(networkKey('::1', 24, 128), networkKey('::2', 24, 128));
  });

  it('malformed IPv4 text is not an address', () => {
    for (const bad of ['1.2.3', '1.2.3.4.5', '1.2.3.256', '1..2.3', '', '::ffff:1.2.3']) assert.equal(networkKey(bad, 24, 56), undefined, bad);
  });
});
