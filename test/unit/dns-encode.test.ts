// encodeAnswer/encodeRcode: what a client decodes from our replies, and how big replies are cut to fit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeQuery, encodeAnswer, encodeRcode, maxReplySize, type EncodeOptions } from '../../src/dns/codec.js';
import type { Answer, Query, Rr, SrvRecord } from '../../src/dns/records.js';
import { buildQuery, parseReply, type QuerySpec } from '../helpers/dns-client.js';

const opts: EncodeOptions = { ra: false, compress: true, udpPayloadSize: 1232 };

function query(spec: QuerySpec, proto: 'udp' | 'tcp' = 'udp'): Query {
  const out = decodeQuery(buildQuery(spec), proto, { address: '127.0.0.1', port: 5353 }, { udpPayloadSize: 1232 });
  if (out.kind !== 'query') throw new Error(`test query did not decode: ${out.kind}`);
  return out.query;
}

const answerOf = (answer: Rr[], additional: Rr[] = [], authority: Rr[] = []): Answer => ({ rcode: 0, aa: true, answer, authority, additional });

describe('encodeAnswer: records', () => {
  it('round-trips every record type through an independent decoder', () => {
    const q = query({ name: 'all.consul.', type: 'ANY', id: 1234 });
    const n = 'all.consul.';
    const rrs: Rr[] = [
      { type: 'A', name: n, ttl: 30, address: '10.0.0.1' },
      { type: 'AAAA', name: n, ttl: 30, address: '2001:db8::1' },
      { type: 'CNAME', name: n, ttl: 0, target: 'web.service.consul.' },
      { type: 'NS', name: n, ttl: 0, target: 'ns.consul.' },
      { type: 'PTR', name: n, ttl: 0, target: 'node1.node.dc1.consul.' },
      { type: 'SRV', name: n, ttl: 5, priority: 1, weight: 65535, port: 21000, target: 'node1.node.dc1.consul.' },
      { type: 'TXT', name: n, ttl: 0, data: ['a=b', 'say "hi"'] },
      { type: 'SOA', name: n, ttl: 0, mname: 'ns.consul.', rname: 'hostmaster.consul.', serial: 4294967295, refresh: 3600, retry: 600, expire: 86400, minimum: 0 },
    ];
    const r = parseReply(encodeAnswer(q, answerOf(rrs), opts));
    assert.deepEqual(r.errors, []);
    assert.equal(r.id, 1234);
    assert.deepEqual(r.flags, { qr: true, aa: true, tc: false, rd: true, ra: false, ad: false, cd: false });
    assert.deepEqual(r.answer, [
      'all.consul. 30 IN A 10.0.0.1',
      'all.consul. 30 IN AAAA 2001:db8::1',
      'all.consul. 0 IN CNAME web.service.consul.',
      'all.consul. 0 IN NS ns.consul.',
      'all.consul. 0 IN PTR node1.node.dc1.consul.',
      'all.consul. 5 IN SRV 1 65535 21000 node1.node.dc1.consul.',
      'all.consul. 0 IN TXT "a=b" "say \\"hi\\""',
      'all.consul. 0 IN SOA ns.consul. hostmaster.consul. 4294967295 3600 600 86400 0',
    ]);
  });

  it('sets RA from the options, copies RD and CD from the query, and keeps the rcode', () => {
    const q = query({ name: 'x.consul.', flags: { rd: false, cd: true } });
    const r = parseReply(encodeAnswer(q, { rcode: 3, aa: true, answer: [], authority: [], additional: [] }, { ...opts, ra: true }));
    assert.equal(r.rcodeName, 'NXDOMAIN');
    assert.equal(r.flags.ra, true);
    assert.equal(r.flags.rd, false);
    // RFC 4035 §3.2.2: a validating stub that set CD must see it in the reply.
    assert.equal(r.flags.cd, true);
    assert.equal(r.flags.ad, false);
    const plain = parseReply(encodeAnswer(query({ name: 'x.consul.' }), answerOf([]), opts));
    assert.equal(plain.flags.cd, false);
  });

  it('echoes the question bytes verbatim, mixed case included, and owns the answer by them', () => {
    const q = query({ name: 'ReDis.CoNNect.consul.', type: 'SRV' });
    const buf = encodeAnswer(q, answerOf([{ type: 'SRV', name: q.name, ttl: 0, priority: 1, weight: 1, port: 1, target: 'n1.node.dc1.consul.' }]), opts);
    assert.deepEqual(buf.subarray(12, q.questionEnd), q.raw.subarray(12, q.questionEnd));
    const r = parseReply(buf);
    assert.equal(r.question?.name, 'ReDis.CoNNect.consul.');
    assert.deepEqual(r.answer, ['ReDis.CoNNect.consul. 0 IN SRV 1 1 1 n1.node.dc1.consul.']);
  });

  it('keeps the case of generated names even when the question is upper-case', () => {
    const q = query({ name: 'REDIS.CONNECT.CONSUL.', type: 'SRV' });
    const r = parseReply(encodeAnswer(q, answerOf(
      [{ type: 'SRV', name: q.name, ttl: 0, priority: 1, weight: 1, port: 1, target: 'n1.node.dc1.consul.' }],
      [{ type: 'A', name: 'n1.node.dc1.consul.', ttl: 0, address: '10.0.0.1' }],
    ), opts));
    assert.deepEqual(r.answer, ['REDIS.CONNECT.CONSUL. 0 IN SRV 1 1 1 n1.node.dc1.consul.']);
    assert.deepEqual(r.additional, ['n1.node.dc1.consul. 0 IN A 10.0.0.1']);
  });

  it('carries one OPT advertising our size (and the DO bit) iff the query had one', () => {
    const withOpt = parseReply(encodeAnswer(query({ name: 'a.consul.', edns: { udpSize: 4096, do: true } }), answerOf([]), opts));
    assert.deepEqual(withOpt.opt, { udpSize: 1232, version: 0, do: true, extRcode: 0 });
    assert.equal(withOpt.additional.length, 0);
    const without = parseReply(encodeAnswer(query({ name: 'a.consul.' }), answerOf([]), opts));
    assert.equal(without.opt, undefined);
  });

  it('is strictly smaller with compression than without, and decodes the same', () => {
    const q = query({ name: 'web.service.consul.', type: 'SRV', edns: {} });
    const srv: Rr[] = [1, 2, 3].map((i) => ({ type: 'SRV', name: q.name, ttl: 0, priority: 1, weight: 1, port: 8000 + i, target: `n${i}.node.dc1.consul.` }));
    const extra: Rr[] = [1, 2, 3].map((i) => ({ type: 'A', name: `n${i}.node.dc1.consul.`, ttl: 0, address: `10.0.0.${i}` }));
    const small = encodeAnswer(q, answerOf(srv, extra), opts);
    const big = encodeAnswer(q, answerOf(srv, extra), { ...opts, compress: false });
    assert.ok(small.length < big.length, `${small.length} < ${big.length}`);
    // Without compression every name is written in full: the size is the plain sum of the parts.
    const wire = (n: string): number => n.length + 1;
    const expected = q.questionEnd + 11
      + srv.reduce((sum, rr) => sum + wire(rr.name) + 10 + 6 + wire((rr as SrvRecord).target), 0)
      + extra.reduce((sum, rr) => sum + wire(rr.name) + 10 + 4, 0);
    assert.equal(big.length, expected);
    const a = parseReply(small);
    const b = parseReply(big);
    assert.deepEqual(a.answer, b.answer);
    assert.deepEqual(a.additional, b.additional);
  });

  it('splits TXT strings longer than 255 bytes into 255-byte character-strings', () => {
    const long = 'x'.repeat(600);
    const r = parseReply(encodeAnswer(query({ name: 't.consul.', type: 'TXT', edns: {} }), answerOf([{ type: 'TXT', name: 't.consul.', ttl: 0, data: [long, ''] }]), opts));
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.answer, [`t.consul. 0 IN TXT "${'x'.repeat(255)}" "${'x'.repeat(255)}" "${'x'.repeat(90)}" ""`]);
  });

  it('encodes AAAA with an IPv4 tail and compressed forms correctly', () => {
    const r = parseReply(encodeAnswer(query({ name: 'v6.consul.', type: 'AAAA' }), answerOf([
      { type: 'AAAA', name: 'v6.consul.', ttl: 0, address: '::ffff:1.2.3.4' },
      { type: 'AAAA', name: 'v6.consul.', ttl: 0, address: '2001:db8::1' },
    ]), opts));
    assert.deepEqual(r.answer, ['v6.consul. 0 IN AAAA ::ffff:102:304', 'v6.consul. 0 IN AAAA 2001:db8::1']);
  });

  it('refuses records it cannot encode faithfully (RangeError, the router answers SERVFAIL)', () => {
    const q = query({ name: 'bad.consul.' });
    const bad: Rr[] = [
      { type: 'SRV', name: 'bad.consul.', ttl: 0, priority: 1, weight: 1, port: 70000, target: 'x.consul.' },
      { type: 'SRV', name: 'bad.consul.', ttl: 0, priority: -1, weight: 1, port: 1, target: 'x.consul.' },
      { type: 'A', name: 'bad.consul.', ttl: -1, address: '10.0.0.1' },
      { type: 'A', name: 'bad.consul.', ttl: 2 ** 31, address: '10.0.0.1' },
      { type: 'A', name: 'bad.consul.', ttl: 0, address: '1.2.3.256' },
      { type: 'A', name: 'bad.consul.', ttl: 0, address: '::1' },
      { type: 'AAAA', name: 'bad.consul.', ttl: 0, address: '10.0.0.1' },
      { type: 'A', name: `${'a'.repeat(64)}.consul.`, ttl: 0, address: '10.0.0.1' },
      { type: 'A', name: 'caf\u00e9.consul.', ttl: 0, address: '10.0.0.1' },
    ];
    for (const rr of bad) assert.throws(() => encodeAnswer(q, answerOf([rr]), opts), RangeError, JSON.stringify(rr));
  });
});

describe('encodeRcode', () => {
  it('replies with header, question and OPT only', () => {
    const q = query({ name: 'Out.Example.', id: 5, edns: { udpSize: 1400 } });
    const r = parseReply(encodeRcode(q, 5, opts));
    assert.equal(r.rcodeName, 'REFUSED');
    assert.equal(r.id, 5);
    assert.equal(r.flags.aa, false);
    assert.equal(r.question?.name, 'Out.Example.');
    assert.deepEqual([r.answer, r.authority, r.additional], [[], [], []]);
    assert.equal(r.opt?.udpSize, 1232);
    assert.equal(parseReply(encodeRcode(q, 3, { ...opts, aa: true })).flags.aa, true);
  });

  it('copies CD from the query (SERVFAIL and REFUSED replies too)', () => {
    const q = query({ name: 'Out.Example.', flags: { cd: true }, edns: {} });
    for (const rcode of [2, 5]) assert.equal(parseReply(encodeRcode(q, rcode, opts)).flags.cd, true);
    assert.equal(parseReply(encodeRcode(query({ name: 'Out.Example.' }), 2, opts)).flags.cd, false);
  });

  it('carries BADVERS in the OPT extended rcode', () => {
    const r = parseReply(encodeRcode(query({ name: 'a.', edns: {} }), 16, opts));
    assert.equal(r.rcodeName, 'BADVERS');
    assert.equal(r.opt?.extRcode, 1);
  });
});

describe('size fitting', () => {
  const srvAnswer = (q: Query, count: number): Answer => {
    const answer: SrvRecord[] = [];
    const additional: Rr[] = [];
    for (let i = 0; i < count; i++) {
      const target = `node-${i}.node.dc1.consul.`;
      answer.push({ type: 'SRV', name: q.name, ttl: 0, priority: 1, weight: 1, port: 20000 + i, target });
      additional.push({ type: 'A', name: target, ttl: 0, address: `10.0.${i >> 8}.${i & 255}` });
    }
    return answerOf(answer, additional);
  };

  it('maxReplySize: min(client size or 512, ours) over UDP, 65535 over TCP', () => {
    assert.equal(maxReplySize(query({ name: 'a.' }), opts), 512);
    assert.equal(maxReplySize(query({ name: 'a.', edns: { udpSize: 4096 } }), opts), 1232);
    assert.equal(maxReplySize(query({ name: 'a.', edns: { udpSize: 800 } }), opts), 800);
    assert.equal(maxReplySize(query({ name: 'a.', edns: { udpSize: 65535 } }), { ...opts, udpPayloadSize: 65535 }), 65507);
    assert.equal(maxReplySize(query({ name: 'a.' }, 'tcp'), opts), 65535);
  });

  for (const client of [undefined, 512, 1232, 4096]) {
    it(`100 SRV + 100 A for a ${client ?? 'non-EDNS'} client: fits, TC=1, Additional only for kept SRV`, () => {
      const q = query({ name: 'big.service.consul.', type: 'SRV', ...(client ? { edns: { udpSize: client } } : {}) });
      const buf = encodeAnswer(q, srvAnswer(q, 100), opts);
      assert.ok(buf.length <= Math.min(client ?? 512, 1232), `${buf.length} bytes`);
      const r = parseReply(buf);
      assert.deepEqual(r.errors, []);
      assert.equal(r.flags.tc, true);
      assert.ok(r.answer.length > 0 && r.answer.length < 100, `${r.answer.length} answers`);
      const targets = r.answer.map((line) => line.split(' ').at(-1));
      assert.deepEqual(r.additional.map((line) => line.split(' ')[0]), targets, 'one A per kept SRV, in order');
      assert.equal(new Set(r.additional).size, r.additional.length, 'no duplicates');
      if (client) assert.equal(r.opt?.udpSize, 1232);
      // Nearly full: one more SRV + its A (~48 bytes) would not have fitted.
      assert.ok(buf.length > Math.min(client ?? 512, 1232) - 60, `${buf.length} bytes is not close to the limit`);
    });
  }

  it('leaves a reply that fits untouched', () => {
    const q = query({ name: 'small.service.consul.', type: 'SRV', edns: { udpSize: 1232 } });
    const r = parseReply(encodeAnswer(q, srvAnswer(q, 3), opts));
    assert.equal(r.flags.tc, false);
    assert.equal(r.answer.length, 3);
    assert.equal(r.additional.length, 3);
  });

  it('drops the Authority section first', () => {
    const q = query({ name: 'x.service.consul.', type: 'SRV' });
    const soa: Rr = { type: 'SOA', name: 'consul.', ttl: 0, mname: `${'n'.repeat(60)}.consul.`, rname: `${'h'.repeat(60)}.consul.`, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 0 };
    const a = srvAnswer(q, 8);
    const r = parseReply(encodeAnswer(q, { ...a, authority: [soa, { ...soa, mname: `${'m'.repeat(60)}.consul.` }, { ...soa, mname: `${'o'.repeat(60)}.consul.` }] }, opts));
    assert.deepEqual(r.authority, []);
    assert.equal(r.answer.length, 8);
    assert.equal(r.flags.tc, true);
  });

  it('dropping only unrelated Additional records leaves TC=0', () => {
    const q = query({ name: 'y.service.consul.', type: 'SRV' });
    const a = srvAnswer(q, 2);
    const orphans: Rr[] = Array.from({ length: 40 }, (_, i) => ({ type: 'A', name: `orphan-${i}.node.dc1.consul.`, ttl: 0, address: '10.9.9.9' }));
    const r = parseReply(encodeAnswer(q, { ...a, additional: [...a.additional, ...orphans] }, opts));
    assert.equal(r.flags.tc, false);
    assert.equal(r.answer.length, 2);
    assert.equal(r.additional.length, 2);
  });

  const soaOf = (zone: string): Rr => ({ type: 'SOA', name: zone, ttl: 0, mname: `ns.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 0 });
  /** One distinct node-meta TXT per instance, the way service answers carry it. */
  const metaTxt = (owner: string, count: number): Rr[] =>
    Array.from({ length: count }, (_, i) => ({ type: 'TXT', name: owner, ttl: 0, data: [`host-id=meta-node-${i}`] }));

  it('a NODATA with more meta TXT than fits keeps its SOA, drops the TXT, and sets no TC', () => {
    for (const edns of [undefined, { udpSize: 512 }]) {
      const q = query({ name: 'svc.service.consul.', type: 'AAAA', ...(edns ? { edns } : {}) });
      const nodata: Answer = { rcode: 0, aa: true, answer: [], authority: [soaOf('consul.')], additional: metaTxt(q.name, 60) };
      const buf = encodeAnswer(q, nodata, opts);
      assert.ok(buf.length <= 512, `${buf.length} bytes`);
      const r = parseReply(buf);
      assert.equal(r.rcodeName, 'NOERROR');
      assert.equal(r.flags.tc, false, 'the negative answer is complete without the optional TXT');
      assert.deepEqual(r.answer, []);
      assert.deepEqual(r.authority, ['consul. 0 IN SOA ns.consul. hostmaster.consul. 1 3600 600 86400 0']);
      assert.deepEqual(r.additional, []);
    }
  });

  it('an NXDOMAIN keeps its SOA over orphan Additional', () => {
    const q = query({ name: 'nope.service.consul.', type: 'A' });
    const nx: Answer = { rcode: 3, aa: true, answer: [], authority: [soaOf('consul.')], additional: metaTxt('x.consul.', 40) };
    const r = parseReply(encodeAnswer(q, nx, opts));
    assert.equal(r.rcodeName, 'NXDOMAIN');
    assert.equal(r.flags.tc, false);
    assert.equal(r.authority.length, 1);
  });

  it('an A answer sheds its node-meta TXT before any A record, without TC', () => {
    const q = query({ name: 'svc.service.consul.', type: 'A', edns: { udpSize: 1232 } });
    const a: Rr[] = Array.from({ length: 60 }, (_, i) => ({ type: 'A', name: q.name, ttl: 0, address: `10.3.0.${i + 1}` }));
    const r = parseReply(encodeAnswer(q, answerOf(a, metaTxt(q.name, 60)), opts));
    assert.equal(r.flags.tc, false);
    assert.equal(r.answer.length, 60);
    assert.deepEqual(r.additional, []);
  });

  it('an SRV answer sheds its targets\' meta TXT before any SRV: all answers and their A, no TC', () => {
    const q = query({ name: 'svc.service.consul.', type: 'SRV', edns: { udpSize: 1232 } });
    const base = srvAnswer(q, 12);
    const txt: Rr[] = base.answer.flatMap((rr) => metaTxt((rr as SrvRecord).target, 2).map((t, i) => ({ ...t, data: [`${'k'.repeat(40)}=${i}`] })));
    const fat: Answer = { ...base, additional: [...base.additional, ...txt] };
    const overTcp = encodeAnswer(query({ name: q.name, type: 'SRV' }, 'tcp'), fat, opts);
    assert.ok(overTcp.length > 1232, `the whole reply (${overTcp.length} bytes) does not fit 1232`);
    assert.ok(encodeAnswer(q, base, opts).length <= 1232, 'without the TXT it does');
    const r = parseReply(encodeAnswer(q, fat, opts));
    assert.equal(r.flags.tc, false);
    assert.equal(r.answer.length, 12);
    assert.deepEqual(r.additional.map((l) => l.split(' ')[3]), Array(12).fill('A'));
  });

  it('when SRV answers must be cut, the kept ones carry their A glue but no meta TXT', () => {
    const q = query({ name: 'svc.service.consul.', type: 'SRV', edns: { udpSize: 1232 } });
    const base = srvAnswer(q, 60);
    const txt: Rr[] = base.answer.flatMap((rr, i) => metaTxt((rr as SrvRecord).target, 1).map((t) => ({ ...t, data: [`host-id=meta-node-${i}`] })));
    const withTxt = encodeAnswer(q, { ...base, additional: [...base.additional, ...txt] }, opts);
    const without = encodeAnswer(q, base, opts);
    const r = parseReply(withTxt);
    assert.equal(r.flags.tc, true);
    assert.ok(r.answer.length > 3 && r.answer.length < 60, `${r.answer.length}`);
    // The meta TXT cost no answers: exactly as many SRV fit as with no TXT at all.
    assert.equal(r.answer.length, parseReply(without).answer.length);
    const targets = r.answer.map((line) => line.split(' ').at(-1));
    assert.deepEqual(r.additional.map((line) => line.split(' ')[0]), targets);
    assert.ok(r.additional.every((line) => line.split(' ')[3] === 'A'));
  });

  it('drops orphans first and keeps the targets\' TXT when that is enough', () => {
    const q = query({ name: 'svc.service.consul.', type: 'SRV' });
    const base = srvAnswer(q, 2);
    const owned = base.answer.flatMap((rr) => metaTxt((rr as SrvRecord).target, 1));
    const orphans: Rr[] = Array.from({ length: 30 }, (_, i) => ({ type: 'A', name: `orphan-${i}.node.dc1.consul.`, ttl: 0, address: '10.9.9.9' }));
    const r = parseReply(encodeAnswer(q, { ...base, additional: [...base.additional, ...owned, ...orphans] }, opts));
    assert.equal(r.flags.tc, false);
    assert.equal(r.answer.length, 2);
    assert.deepEqual(r.additional.map((l) => l.split(' ')[3]).sort(), ['A', 'A', 'TXT', 'TXT']);
  });

  it('with no room for even one answer, replies with header, question and OPT, TC=1', () => {
    const q = query({ name: 't.consul.', type: 'TXT', edns: { udpSize: 512 } });
    const r = parseReply(encodeAnswer(q, answerOf([{ type: 'TXT', name: q.name, ttl: 0, data: ['z'.repeat(600)] }]), opts));
    assert.equal(r.flags.tc, true);
    assert.deepEqual(r.answer, []);
    assert.equal(r.question?.name, 't.consul.');
    assert.equal(r.opt?.udpSize, 1232);
  });

  it('honours answer.tc (count-limited answers) even when the reply fits', () => {
    const q = query({ name: 'c.consul.', type: 'A' });
    const r = parseReply(encodeAnswer(q, { ...answerOf([{ type: 'A', name: q.name, ttl: 0, address: '10.0.0.1' }]), tc: true }, opts));
    assert.equal(r.flags.tc, true);
  });

  it('TCP: 1000 SRV fit in 65535 bytes without TC; with 1000 A as well, cut to fit in step', () => {
    const q = query({ name: 'huge.service.consul.', type: 'SRV' }, 'tcp');
    const a = srvAnswer(q, 1000);
    const alone = parseReply(encodeAnswer(q, { ...a, additional: [] }, opts));
    assert.equal(alone.flags.tc, false);
    assert.equal(alone.answer.length, 1000);
    // Names past 16 KiB cannot be pointed at, so 1000 SRV + 1000 A come to just over 64 KiB.
    const buf = encodeAnswer(q, a, opts);
    assert.ok(buf.length <= 65535, `${buf.length}`);
    const r = parseReply(buf);
    assert.deepEqual(r.errors, []);
    assert.equal(r.flags.tc, false, 'TC is a UDP signal');
    assert.ok(r.answer.length >= 990 && r.answer.length < 1000, `${r.answer.length}`);
    assert.equal(r.additional.length, r.answer.length);
  });

  it('TCP: an answer over 65535 bytes is cut to fit, without TC', () => {
    const q = query({ name: 'huge.service.consul.', type: 'SRV' }, 'tcp');
    const a = srvAnswer(q, 1000);
    const fat = { ...a, answer: a.answer.map((rr) => ({ ...rr, target: `${'t'.repeat(50)}-${(rr as SrvRecord).port}.node.dc1.consul.` })), additional: [] };
    const buf = encodeAnswer(q, fat, opts);
    assert.ok(buf.length <= 65535, `${buf.length}`);
    const r = parseReply(buf);
    assert.ok(r.answer.length > 500 && r.answer.length < 1000, `${r.answer.length}`);
    assert.equal(r.flags.tc, false);
  });
});
