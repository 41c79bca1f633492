// Relay rewriting on hand-built upstream messages: compression, dropped records, fitting, header and OPT.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dns2 from 'dns2';
import {
  buildRelayedReply, isInZone, parseQuestion, parseWireMessage, replySizeLimit, sameQuestion, toWireName,
  type RelayClient,
  type WireMessage, type WireName,
} from '../../src/dns/relay.js';

/** A tiny wire writer for building upstream messages by hand, with offsets known to the test. */
class Wire {
  private buf = Buffer.alloc(70000);
  pos = 0;
  u8(v: number): this { this.buf[this.pos++] = v; return this; }
  u16(v: number): this { this.buf.writeUInt16BE(v, this.pos); this.pos += 2; return this; }
  u32(v: number): this { this.buf.writeUInt32BE(v >>> 0, this.pos); this.pos += 4; return this; }
  bytes(b: Buffer | number[]): this { Buffer.from(b).copy(this.buf, this.pos); this.pos += b.length; return this; }
  /** Labels, then either a pointer or the root. */
  name(labels: string, pointer?: number): this {
    for (const l of labels.split('.').filter((x) => x.length > 0)) this.u8(l.length).bytes(Buffer.from(l));
    return pointer === undefined ? this.u8(0) : this.u16(0xc000 | pointer);
  }
  ptr(off: number): this { return this.u16(0xc000 | off); }
  header(id: number, flags: number, qd: number, an: number, ns: number, ar: number): this {
    return this.u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
  }
  /** Type, class IN, TTL, then RDATA written by `rdata`, with RDLENGTH patched in. */
  rr(type: number, ttl: number, rdata: (w: this) => void): this {
    this.u16(type).u16(1).u32(ttl);
    const at = this.pos;
    this.u16(0);
    rdata(this);
    this.buf.writeUInt16BE(this.pos - at - 2, at);
    return this;
  }
  opt(size: number, ttl: number, options: Buffer): this {
    return this.u8(0).u16(41).u16(size).u32(ttl).u16(options.length).bytes(options);
  }
  done(): Buffer { return Buffer.from(this.buf.subarray(0, this.pos)); }
}

const QUESTION = Buffer.concat([Buffer.from('\x07Example\x03COM\x00', 'latin1'), Buffer.from([0, 1, 0, 1])]);
const COOKIE = Buffer.from('000a00080102030405060708', 'hex');
const ZONES = [toWireName('consul.')];

function client(over: Partial<RelayClient> = {}): RelayClient {
  return { id: 0xbeef, rd: true, cd: false, question: QUESTION, edns: { udpSize: 1232, version: 0, do: false }, ...over };
}

function relay(upstream: Buffer, c: RelayClient = client(), maxSize = 1232): Buffer {
  const msg = parseWireMessage(upstream);
  assert.ok(msg, 'upstream message parses');
  return buildRelayedReply(msg, c, { zones: ZONES, udpPayloadSize: 1232, maxSize });
}

function text(name: WireName): string {
  return `${name.map((l) => l.toString('latin1')).join('.')}.`;
}

function parsed(bytes: Buffer): WireMessage {
  const m = parseWireMessage(bytes);
  assert.ok(m, 'relayed reply parses');
  return m;
}

/**
 * Upstream reply to Example.COM A: CNAME → www.Example.COM (pointer into the question), an A owned by a
 * pointer into the CNAME's RDATA, an SOA with two compressed names, a TYPE65 whose opaque RDATA looks like
 * a pointer, and an OPT with a cookie.
 */
function compressedReply(): { bytes: Buffer; cnameTargetAt: number } {
  const w = new Wire().header(0x1111, 0x8580 | 0x0020, 1, 2, 1, 2).bytes(QUESTION);
  w.ptr(12);
  let cnameTargetAt = 0;
  w.rr(5, 300, (x) => { cnameTargetAt = x.pos; x.name('www', 12); });
  w.ptr(cnameTargetAt).rr(1, 0x7ffffff0, (x) => x.bytes([192, 0, 2, 1]));
  w.ptr(12).rr(6, 3600, (x) => x.name('ns1', 12).name('hostmaster', 12).u32(2026).u32(1).u32(2).u32(3).u32(4));
  w.ptr(cnameTargetAt).rr(65, 42, (x) => x.bytes([0xc0, 0x0c, 0x01, 0x02, 0x03]));
  w.opt(4096, 0x8000, COOKIE);
  return { bytes: w.done(), cnameTargetAt };
}

test('relayed records keep names, TTLs and opaque RDATA; OPT replaced by ours', () => {
  const out = relay(compressedReply().bytes);
  const m = parsed(out);
  assert.equal(m.id, 0xbeef);
  assert.equal(text(m.questions[0]?.name ?? []), 'Example.COM.');
  assert.deepEqual(m.answer.map((r) => [text(r.owner), r.type, r.ttl]),
    [['Example.COM.', 5, 300], ['www.Example.COM.', 1, 0x7ffffff0]]);
  assert.deepEqual(m.authority.map((r) => [text(r.owner), r.type]), [['Example.COM.', 6]]);
  const [unknown, opt] = m.additional;
  assert.equal(unknown?.type, 65);
  assert.deepEqual(unknown?.rdata, [{ kind: 'bytes', bytes: Buffer.from([0xc0, 0x0c, 1, 2, 3]) }]);
  assert.equal(opt?.type, 41);
  assert.equal(opt?.klass, 1232, 'our UDP size, not the upstream 4096');
  assert.deepEqual(opt?.rdata, [{ kind: 'bytes', bytes: Buffer.alloc(0) }], 'no options: the cookie is gone');
  assert.equal(m.additional.length, 2, 'exactly one OPT');
});

test('an independent decoder (dns2) reads the same records from the relayed bytes', () => {
  const p = dns2.Packet.parse(relay(compressedReply().bytes));
  const answers = p.answers as unknown as { name: string; type: number; domain?: string; address?: string }[];
  assert.equal(answers[0]?.domain, 'www.Example.COM');
  assert.equal(answers[1]?.name, 'www.Example.COM');
  assert.equal(answers[1]?.address, '192.0.2.1');
  const soa = p.authorities[0] as unknown as { primary: string; admin: string; serial: number; minimum: number };
  assert.deepEqual([soa.primary, soa.admin, soa.serial, soa.minimum], ['ns1.Example.COM', 'hostmaster.Example.COM', 2026, 4]);
});

test('compression keeps the relayed reply no larger than the upstream message', () => {
  const { bytes } = compressedReply();
  const out = relay(bytes);
  // Upstream OPT carried a 12-byte cookie option; ours has none.
  assert.ok(out.length <= bytes.length - COOKIE.length, `${out.length} vs ${bytes.length}`);
});

test('header: client ID, RD and CD; upstream AA, AD, RA and rcode; opcode 0', () => {
  const w = new Wire().header(0x2222, 0x8000 | 0x0400 | 0x0100 | 0x0080 | 0x0020 | 0x0003, 1, 0, 0, 0).bytes(QUESTION);
  const out = relay(w.done(), client({ rd: false, cd: true }));
  const flags = out.readUInt16BE(2);
  assert.equal(out.readUInt16BE(0), 0xbeef);
  assert.equal(flags & 0x8000, 0x8000, 'QR');
  assert.equal(flags & 0x7800, 0, 'opcode 0');
  assert.equal(flags & 0x0400, 0x0400, 'AA from upstream');
  assert.equal(flags & 0x0100, 0, 'RD is the client\'s (0)');
  assert.equal(flags & 0x0080, 0x0080, 'RA from upstream');
  assert.equal(flags & 0x0020, 0x0020, 'AD from upstream');
  assert.equal(flags & 0x0010, 0x0010, 'CD is the client\'s');
  assert.equal(flags & 0x000f, 3, 'NXDOMAIN');
  assert.equal(flags & 0x0200, 0, 'not truncated');
});

test('no OPT for a client without EDNS; DO and the extended rcode carried in ours otherwise', () => {
  const w = new Wire().header(1, 0x8180, 1, 0, 0, 1).bytes(QUESTION).opt(4096, (1 << 24) | 0x8000, Buffer.alloc(0));
  const upstream = w.done();
  const plain = parsed(relay(upstream, client({ edns: undefined })));
  assert.equal(plain.additional.length, 0);
  const withDo = parsed(relay(upstream, client({ edns: { udpSize: 4096, version: 0, do: true } })));
  const opt = withDo.additional[0];
  assert.equal(opt?.ttl, (1 << 24) | 0x8000, 'extended rcode 1 kept, version 0, DO set');
});

test('records owned inside our zones are dropped, a pointer into a dropped record still resolves', () => {
  // Answer 1 (in zone, dropped) holds "target.example.org." in its RDATA; answer 2's owner points there.
  const w = new Wire().header(1, 0x8180, 1, 3, 0, 0).bytes(QUESTION);
  const ownerAt = w.pos;
  w.name('x.Consul');
  let targetAt = 0;
  w.rr(5, 60, (x) => { targetAt = x.pos; x.name('target.example.org'); });
  w.ptr(targetAt).rr(1, 60, (x) => x.bytes([192, 0, 2, 7]));
  w.name('notconsul').rr(1, 60, (x) => x.bytes([192, 0, 2, 8]));
  assert.ok(ownerAt > 12);
  const m = parsed(relay(w.done()));
  assert.deepEqual(m.answer.map((r) => text(r.owner)), ['target.example.org.', 'notconsul.']);
  assert.equal(m.answer.length, 2);
});

test('pointer loops, out-of-bounds data and counts past the end are rejected', () => {
  const selfLoop = new Wire().header(1, 0x8180, 1, 1, 0, 0).bytes(QUESTION);
  selfLoop.ptr(selfLoop.pos).rr(1, 1, (x) => x.bytes([1, 2, 3, 4]));
  assert.equal(parseWireMessage(selfLoop.done()), undefined, 'pointer to itself');

  const pair = new Wire().header(1, 0x8180, 1, 1, 0, 0).bytes(QUESTION);
  const a = pair.pos;
  pair.ptr(a + 2).ptr(a).u16(1).u16(1).u32(1).u16(0);
  assert.equal(parseWireMessage(pair.done()), undefined, 'two pointers to each other');

  const inRdata = new Wire().header(1, 0x8180, 1, 1, 0, 0).bytes(QUESTION);
  inRdata.ptr(12).u16(5).u16(1).u32(1).u16(2);
  inRdata.ptr(inRdata.pos);
  assert.equal(parseWireMessage(inRdata.done()), undefined, 'CNAME RDATA pointing at itself');

  const counts = new Wire().header(1, 0x8180, 1, 2, 0, 0).bytes(QUESTION);
  counts.ptr(12).rr(1, 1, (x) => x.bytes([1, 2, 3, 4]));
  assert.equal(parseWireMessage(counts.done()), undefined, 'ancount past the end');

  const rdlen = new Wire().header(1, 0x8180, 1, 1, 0, 0).bytes(QUESTION).ptr(12).u16(1).u16(1).u32(1).u16(40).bytes([1, 2]);
  assert.equal(parseWireMessage(rdlen.done()), undefined, 'RDLENGTH past the end');

  const mx = new Wire().header(1, 0x8180, 1, 1, 0, 0).bytes(QUESTION).ptr(12).rr(15, 1, (x) => x.u16(10));
  assert.equal(parseWireMessage(mx.done()), undefined, 'MX without its exchange name');

  const far = new Wire().header(1, 0x8180, 1, 1, 0, 0).bytes(QUESTION).ptr(0x3fff).rr(1, 1, (x) => x.bytes([1, 2, 3, 4]));
  assert.equal(parseWireMessage(far.done()), undefined, 'pointer past the end');
});

function manyA(count: number): Buffer {
  const w = new Wire().header(9, 0x8180, 1, count, 0, 1).bytes(QUESTION);
  for (let i = 0; i < count; i++) w.ptr(12).rr(1, 300, (x) => x.bytes([192, 0, 2, i % 256]));
  return w.opt(4096, 0, Buffer.alloc(0)).done();
}

test('too big for the client: whole records while they fit, TC=1, OPT still last', () => {
  const upstream = manyA(100); // 12 + 17 + 100 × 16 bytes
  const noEdns = relay(upstream, client({ edns: undefined }), replySizeLimit('udp', undefined, 1232));
  assert.ok(noEdns.length <= 512);
  assert.equal(noEdns.readUInt16BE(2) & 0x0200, 0x0200, 'TC set');
  const m = parsed(noEdns);
  assert.equal(m.answer.length, Math.floor((512 - 12 - QUESTION.length) / 16));
  assert.ok(m.answer.every((r, i) => r.rdata[0]?.kind === 'bytes' && r.rdata[0].bytes[3] === i), 'in order');

  const edns = { udpSize: 4096, version: 0, do: false };
  const limit = replySizeLimit('udp', edns, 1232);
  assert.equal(limit, 1232, 'client 4096 is capped at our 1232');
  const capped = relay(upstream, client({ edns }), limit);
  assert.ok(capped.length <= 1232);
  const c = parsed(capped);
  assert.equal(c.answer.length, Math.floor((1232 - 12 - QUESTION.length - 11) / 16));
  assert.equal(c.additional.at(-1)?.type, 41);
  assert.equal(capped.readUInt16BE(2) & 0x0200, 0x0200);

  const tcp = relay(upstream, client({ edns }), replySizeLimit('tcp', edns, 1232));
  assert.equal(tcp.readUInt16BE(2) & 0x0200, 0, 'TCP fits everything');
  assert.equal(parsed(tcp).answer.length, 100);
});

test('names past offset 0x3fff are written whole, not as broken pointers', () => {
  const count = 1200; // distinct owners push the message well past 16 KiB
  const w = new Wire().header(3, 0x8180, 1, count, 0, 0).bytes(QUESTION);
  for (let i = 0; i < count; i++) w.name(`host-${i}`, 12).rr(1, 300, (x) => x.bytes([192, 0, 2, i % 256]));
  const upstream = w.done();
  assert.ok(upstream.length > 0x4000);
  const m = parsed(relay(upstream, client(), 65535));
  assert.equal(m.answer.length, count);
  assert.ok(m.answer.every((r, i) => text(r.owner) === `host-${i}.Example.COM.`));
});

test('a truncated upstream reply stays truncated; parseQuestion reads the client question', () => {
  const w = new Wire().header(1, 0x8380, 1, 0, 0, 0).bytes(QUESTION);
  assert.equal(relay(w.done()).readUInt16BE(2) & 0x0200, 0x0200);
  const q = parseQuestion(QUESTION);
  assert.deepEqual(q && [text(q.name), q.type, q.klass], ['Example.COM.', 1, 1]);
});

test('question matching ignores ASCII case (0x20) but not type, class or labels', () => {
  const q = parseQuestion(QUESTION);
  const upper = parseQuestion(Buffer.concat([Buffer.from('\x07EXAMPLE\x03com\x00', 'latin1'), Buffer.from([0, 1, 0, 1])]));
  const aaaa = parseQuestion(Buffer.concat([Buffer.from('\x07example\x03com\x00', 'latin1'), Buffer.from([0, 28, 0, 1])]));
  const other = parseQuestion(Buffer.concat([Buffer.from('\x07exbmple\x03com\x00', 'latin1'), Buffer.from([0, 1, 0, 1])]));
  assert.ok(q && upper && aaaa && other);
  assert.equal(sameQuestion(q, upper), true);
  assert.equal(sameQuestion(q, aaaa), false);
  assert.equal(sameQuestion(q, other), false);
  assert.equal(isInZone(toWireName('A.B.Consul.'), toWireName('consul.')), true);
  assert.equal(isInZone(toWireName('notconsul.'), toWireName('consul.')), false);
});
