// The guard in the router: recursion_allow, RD=0 from the forward cache only, RFC 8482 ANY, and UDP rate limiting.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import { createRegistry } from '../../src/catalog/registry.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config, RateLimitConfig } from '../../src/config/types.js';
import type { Transport } from '../../src/dns/records.js';
import type { ForwarderOptions } from '../../src/forward/forwarder.js';
import { createGuard, MINIMAL_ANY_TTL } from '../../src/guard/guard.js';
import { createPrometheusMetrics } from '../../src/metrics/prometheus.js';
import { createQueryHandler } from '../../src/router.js';
import { toEncodeOptions, toResolveContext } from '../../src/settings.js';
import { REFERENCE_DIR } from '../helpers/api-harness.js';
import { buildQuery, parseReply, type ParsedReply, type QuerySpec } from '../helpers/dns-client.js';
import type { FakeUpstream } from '../helpers/fake-upstream.js';
import { fakes, forwarderFor, quietLogger } from '../helpers/forward-setup.js';
import { sample } from '../helpers/prom-sample.js';

const INSIDE = { address: '10.0.0.1', port: 40000 };
const OUTSIDE = { address: '192.0.2.1', port: 40000 };
const CACHE = { size: 100, maxTtl: 3600, negativeTtl: 300 };
const RRL_OFF: RateLimitConfig = { responsesPerSecond: 0, burst: 0, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56 };

interface Setup {
  readonly recursionAllow?: readonly string[];
  readonly rateLimit?: Partial<RateLimitConfig>;
  readonly forwarder?: Partial<ForwarderOptions>;
  readonly compress?: boolean;
}

/** A router over the reference catalog with recursors pointing at one fake upstream, and the guard of `s`. */
async function routerWith(t: TestContext, s: Setup = {}) {
  const [up] = await fakes(t, { behaviour: 'answer', answers: (name, qtype) => [qtype === 1 ? `${name} 300 IN A 192.0.2.80` : `${name} 300 IN TXT "any"`] });
  assert.ok(up);
  const { config } = await loadConfig({ files: [], dirs: [REFERENCE_DIR] }, { client: '127.0.0.1', dnsPort: 0 }, { hostname: 'test-host' });
  const effective: Config = {
    ...config, recursors: [{ address: up.address, port: up.port }],
    dns: { ...config.dns, disableCompression: s.compress === false },
  };
  const metrics = createPrometheusMetrics({ defaultMetrics: false });
  const forwarder = forwarderFor(t, [up], { metrics, cache: CACHE, ...s.forwarder });
  const registry = createRegistry(catalogFromConfig(effective));
  const context = toResolveContext(effective);
  const encode = toEncodeOptions(effective);
  const guard = createGuard({
    recursionAllow: s.recursionAllow ?? effective.dns.recursionAllow,
    rateLimit: { ...RRL_OFF, ...s.rateLimit },
  });
  const handler = createQueryHandler({
    snapshot: () => registry.current(), context: () => context, encode: () => encode, forwarder: () => forwarder,
    guard: () => guard, logger: quietLogger(), metrics,
  });
  const raw = async (spec: QuerySpec, proto: Transport = 'udp', client = INSIDE): Promise<Buffer | null> =>
    handler(buildQuery({ edns: { udpSize: 1232 }, ...spec }), proto, client);
  const ask = async (spec: QuerySpec, proto: Transport = 'udp', client = INSIDE): Promise<ParsedReply> => {
    const out = await raw(spec, proto, client);
    assert.ok(out, 'a reply is sent');
    return parseReply(out);
  };
  return { up: up as FakeUpstream, ask, raw, metrics, handler };
}

const asked = (up: FakeUpstream): string[] => up.queries.map((q) => `${q.name} ${q.qtype} ${q.proto}`);

describe('recursion_allow in the router', () => {
  it('a client outside it gets REFUSED (RA=0) for names outside the zones, over UDP and TCP; the upstream is never asked', async (t) => {
    const { up, ask, metrics } = await routerWith(t);
    for (const proto of ['udp', 'tcp'] as const) {
      const r = await ask({ name: 'www.example.com.' }, proto, OUTSIDE);
      assert.equal(r.rcodeName, 'REFUSED', proto);
      assert.equal(r.flags.ra, false, 'recursion is not available to this client');
      assert.deepEqual(r.answer, []);
    }
    assert.deepEqual(asked(up), []);
    const text = await metrics.render();
    assert.equal(sample(text, 'connect_dns_guard_actions_total', { action: 'recursion-refused', transport: 'udp' }), 1);
    assert.equal(sample(text, 'connect_dns_guard_actions_total', { action: 'recursion-refused', transport: 'tcp' }), 1);
  });

  it('the same client gets normal in-zone answers', async (t) => {
    const { ask } = await routerWith(t);
    const r = await ask({ name: 'redis.connect.consul.', type: 'SRV' }, 'udp', OUTSIDE);
    assert.equal(r.rcodeName, 'NOERROR');
    assert.ok(r.answer.length > 0);
    const ptr = await ask({ name: '1.0.0.127.in-addr.arpa.', type: 'PTR' }, 'udp', OUTSIDE);
    assert.equal(ptr.rcodeName, 'NOERROR', 'a PTR we answer ourselves is in-zone');
  });

  it('clients inside it (IPv4, IPv4-mapped IPv6) are forwarded; the outside one gets no cached answer either', async (t) => {
    const { up, ask } = await routerWith(t);
    const r = await ask({ name: 'www.example.com.' }, 'udp', INSIDE);
    assert.deepEqual(r.answer, ['www.example.com. 300 IN A 192.0.2.80']);
    const mapped = await ask({ name: 'other.example.com.' }, 'udp', { address: '::ffff:10.9.9.9', port: 1 });
    assert.equal(mapped.rcodeName, 'NOERROR');
    assert.equal(asked(up).length, 2);
    // The name is in the forward cache now, and its marker in the reply cache: the refusal still holds.
    for (let i = 0; i < 3; i++) assert.equal((await ask({ name: 'www.example.com.' }, 'udp', OUTSIDE)).rcodeName, 'REFUSED');
    assert.equal((await ask({ name: 'www.example.com.' }, 'udp', { address: '::ffff:192.0.2.1', port: 1 })).rcodeName, 'REFUSED');
    assert.equal(asked(up).length, 2);
  });

  it('an empty list closes forwarding to everyone, loopback included', async (t) => {
    const { up, ask } = await routerWith(t, { recursionAllow: [] });
    assert.equal((await ask({ name: 'www.example.com.' }, 'udp', { address: '127.0.0.1', port: 1 })).rcodeName, 'REFUSED');
    assert.equal((await ask({ name: 'redis.connect.consul.', type: 'SRV' }, 'udp', { address: '127.0.0.1', port: 1 })).rcodeName, 'NOERROR');
    assert.deepEqual(asked(up), []);
  });
});

describe('RD=0 in the router', () => {
  it('a name outside the zones not in the forward cache is REFUSED and never sent upstream', async (t) => {
    const { up, ask, metrics } = await routerWith(t);
    for (const proto of ['udp', 'tcp'] as const) {
      const r = await ask({ name: 'www.example.com.', flags: { rd: false } }, proto);
      assert.equal(r.rcodeName, 'REFUSED', proto);
      assert.equal(r.flags.rd, false);
      assert.equal(r.flags.ra, true, 'recursion is available to this client when asked for');
    }
    assert.deepEqual(asked(up), []);
    assert.equal(sample(await metrics.render(), 'connect_dns_guard_actions_total', { action: 'norecurse-refused', transport: 'udp' }), 1);
  });

  it('once cached by an RD=1 query, the name is answered from the cache, RD echoed as 0', async (t) => {
    const { up, ask, metrics } = await routerWith(t);
    assert.equal((await ask({ name: 'www.example.com.' })).rcodeName, 'NOERROR');
    assert.equal(asked(up).length, 1);
    for (const proto of ['udp', 'tcp'] as const) {
      const r = await ask({ name: 'WWW.example.com.', flags: { rd: false } }, proto);
      assert.equal(r.rcodeName, 'NOERROR', proto);
      assert.equal(r.flags.rd, false);
      assert.equal(r.question?.name, 'WWW.example.com.');
      const viaRd1 = await ask({ name: 'WWW.example.com.' }, proto);
      assert.deepEqual(r.answer, viaRd1.answer, 'the same bytes an RD=1 cache hit gets');
      assert.deepEqual(r.answer.map((x) => x.replace(/ \d+ IN/, ' IN').toLowerCase()), ['www.example.com. in a 192.0.2.80']);
    }
    assert.equal(asked(up).length, 1, 'no upstream query for RD=0');
    assert.equal((await ask({ name: 'www.example.com.', type: 'TXT', flags: { rd: false } })).rcodeName, 'REFUSED', 'another qtype is another entry');
    assert.equal(sample(await metrics.render(), 'connect_dns_guard_actions_total', { action: 'norecurse-cached', transport: 'udp' }), 1);
  });

  it('in-zone names are answered whatever RD says', async (t) => {
    const { ask } = await routerWith(t);
    const r = await ask({ name: 'redis.connect.consul.', type: 'SRV', flags: { rd: false } });
    assert.equal(r.rcodeName, 'NOERROR');
    assert.ok(r.answer.length > 0);
    assert.equal((await ask({ name: 'nope.service.consul.', flags: { rd: false } })).rcodeName, 'NXDOMAIN');
  });

  it('without a forward cache, RD=0 outside the zones is always REFUSED', async (t) => {
    const { up, ask } = await routerWith(t, { forwarder: { cache: false } });
    await ask({ name: 'www.example.com.' });
    assert.equal((await ask({ name: 'www.example.com.', flags: { rd: false } })).rcodeName, 'REFUSED');
    assert.equal(asked(up).length, 1);
  });
});

describe('RFC 8482 ANY in the router', () => {
  const HINFO_RDATA = '\\# 9 075246433834383200'; // "RFC8482" ""

  for (const compress of [true, false]) {
    it(`ANY over UDP outside the zones gets one synthesized HINFO, not forwarded (compression ${compress ? 'on' : 'off'})`, async (t) => {
      const { up, ask, raw } = await routerWith(t, { compress });
      const r = await ask({ name: 'Www.Example.com.', type: 'ANY' });
      assert.equal(r.rcodeName, 'NOERROR');
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.answer, [`Www.Example.com. ${MINIMAL_ANY_TTL} IN HINFO ${HINFO_RDATA}`]);
      assert.deepEqual([r.authority, r.additional], [[], []]);
      assert.equal(r.flags.aa, false, 'not our name: not authoritative');
      assert.equal(r.flags.ra, true);
      assert.equal(r.opt?.udpSize, 1232, 'EDNS still answered');
      const noEdns = await raw({ name: 'www.example.com.', type: 'ANY', edns: undefined });
      assert.ok(noEdns && noEdns.length <= 512 && parseReply(noEdns).opt === undefined);
      assert.deepEqual(asked(up), []);
    });
  }

  it('ANY over TCP is forwarded; ANY for an in-zone name is answered from the catalog', async (t) => {
    const { up, ask, metrics } = await routerWith(t);
    const r = await ask({ name: 'www.example.com.', type: 'ANY' }, 'tcp');
    assert.deepEqual(r.answer, ['www.example.com. 300 IN TXT "any"']);
    assert.deepEqual(asked(up), ['www.example.com. 255 tcp']);
    const inZone = await ask({ name: 'redis.service.consul.', type: 'ANY' });
    assert.ok(inZone.answer.length > 0 && inZone.answer.every((a) => !a.includes('HINFO')));
    assert.equal(sample(await metrics.render(), 'connect_dns_guard_actions_total', { action: 'any-minimal', transport: 'udp' }), undefined);
  });

  it('a client outside recursion_allow gets REFUSED for ANY too', async (t) => {
    const { ask } = await routerWith(t);
    assert.equal((await ask({ name: 'www.example.com.', type: 'ANY' }, 'udp', OUTSIDE)).rcodeName, 'REFUSED');
  });
});

describe('rate limiting in the router', () => {
  it('off by default: no limiter is built', () => {
    assert.equal(createGuard({ recursionAllow: [], rateLimit: RRL_OFF }).limiter, undefined);
  });

  it('UDP past the burst is dropped or slipped as an empty TC=1 reply; TCP and other networks are served', async (t) => {
    const { raw, metrics } = await routerWith(t, { rateLimit: { responsesPerSecond: 1, burst: 3, slip: 2 } });
    const a = { address: '10.0.0.1', port: 1 };
    const out: string[] = [];
    for (let i = 0; i < 9; i++) {
      const r = await raw({ name: 'redis.connect.consul.', type: 'SRV' }, 'udp', a);
      if (r === null) { out.push('drop'); continue; }
      const p = parseReply(r);
      out.push(p.flags.tc ? `tc ${p.answer.length}` : `ok ${p.answer.length > 0}`);
    }
    // Nine queries well within a second at 1/s: the burst, then drop/slip in turn (a second may refill one).
    assert.deepEqual(out.slice(0, 3), ['ok true', 'ok true', 'ok true']);
    const rest = out.slice(3).filter((o) => o !== 'ok true');
    assert.ok(rest.length >= 5, out.join(', '));
    assert.ok(rest.every((o) => o === 'drop' || o === 'tc 0'), out.join(', '));
    assert.ok(rest.includes('drop') && rest.includes('tc 0'), out.join(', '));
    for (let i = 0; i < 5; i++) {
      const r = await raw({ name: 'redis.connect.consul.', type: 'SRV' }, 'tcp', a);
      assert.ok(r && !parseReply(r).flags.tc && parseReply(r).answer.length > 0, 'TCP is never limited');
    }
    const other = await raw({ name: 'redis.connect.consul.', type: 'SRV' }, 'udp', { address: '10.0.1.1', port: 1 });
    assert.ok(other && parseReply(other).answer.length > 0, 'another /24 has its own bucket');
    const text = await metrics.render();
    const drops = sample(text, 'connect_dns_guard_actions_total', { action: 'rate-limit-drop', transport: 'udp' }) ?? 0;
    const slips = sample(text, 'connect_dns_guard_actions_total', { action: 'rate-limit-slip', transport: 'udp' }) ?? 0;
    assert.equal(drops + slips, rest.length);
    assert.equal(slips, rest.filter((o) => o === 'tc 0').length);
  });

  it('a limited forward is not sent upstream, and the slip carries the question and OPT only', async (t) => {
    const { up, raw } = await routerWith(t, { rateLimit: { responsesPerSecond: 1, burst: 1, slip: 1 } });
    assert.ok(await raw({ name: 'a.example.com.' }));
    const slipped = await raw({ name: 'b.example.com.', id: 4242 });
    assert.ok(slipped);
    const p = parseReply(slipped);
    assert.equal(p.id, 4242);
    assert.equal(p.flags.tc, true);
    assert.equal(p.question?.name, 'b.example.com.');
    assert.deepEqual([p.answer, p.authority, p.additional], [[], [], []]);
    assert.equal(p.opt?.udpSize, 1232);
    assert.deepEqual(asked(up), ['a.example.com. 1 udp']);
  });
});
