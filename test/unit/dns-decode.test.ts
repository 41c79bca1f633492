// decodeQuery: which queries are answered, refused as malformed, or dropped without a reply.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeQuery, type DecodeOutcome } from '../../src/dns/codec.js';
import { Rcode } from '../../src/dns/records.js';
import { buildOpt, buildQuery, parseReply } from '../helpers/dns-client.js';

const client = { address: '127.0.0.1', port: 53000 };
const decode = (raw: Buffer, proto: 'udp' | 'tcp' = 'udp'): DecodeOutcome => decodeQuery(raw, proto, client, { udpPayloadSize: 1232 });

function expectError(out: DecodeOutcome, rcode: number): ReturnType<typeof parseReply> {
  assert.equal(out.kind, 'error', `expected an error reply, got ${out.kind}`);
  if (out.kind !== 'error') throw new Error('unreachable');
  assert.equal(out.rcode, rcode);
  const reply = parseReply(out.reply);
  assert.equal(reply.rcode, rcode);
  assert.equal(reply.flags.qr, true);
  return reply;
}

/** A query with its header counts rewritten. */
function withCounts(raw: Buffer, counts: { qd?: number; an?: number; ns?: number; ar?: number }): Buffer {
  const b = Buffer.from(raw);
  if (counts.qd !== undefined) b.writeUInt16BE(counts.qd, 4);
  if (counts.an !== undefined) b.writeUInt16BE(counts.an, 6);
  if (counts.ns !== undefined) b.writeUInt16BE(counts.ns, 8);
  if (counts.ar !== undefined) b.writeUInt16BE(counts.ar, 10);
  return b;
}

const header = (id: number, b2: number, qd: number): Buffer => {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h[2] = b2;
  h.writeUInt16BE(qd, 4);
  return h;
};
const tail = Buffer.from([0, 1, 0, 1]);

describe('decodeQuery', () => {
  it('decodes a plain query, keeping the asked case in name and lower-casing qname', () => {
    const raw = buildQuery({ name: 'Redis.Connect.CONSUL.', type: 'SRV', id: 4242, flags: { rd: true, cd: true } });
    const out = decode(raw, 'tcp');
    assert.equal(out.kind, 'query');
    if (out.kind !== 'query') return;
    const q = out.query;
    assert.equal(q.id, 4242);
    assert.equal(q.name, 'Redis.Connect.CONSUL.');
    assert.equal(q.qname, 'redis.connect.consul.');
    assert.equal(q.qtype, 33);
    assert.equal(q.qclass, 1);
    assert.equal(q.rd, true);
    assert.equal(q.cd, true);
    assert.equal(q.proto, 'tcp');
    assert.deepEqual(q.client, client);
    assert.equal(q.edns, undefined);
    assert.equal(q.questionEnd, raw.length);
    assert.equal(q.raw, raw);
  });

  it('decodes the root name as "."', () => {
    const out = decode(buildQuery({ name: '.', type: 'NS' }));
    assert.equal(out.kind === 'query' && out.query.name, '.');
  });

  it('drops messages shorter than a header and responses (QR=1)', () => {
    assert.equal(decode(Buffer.alloc(11)).kind, 'drop');
    assert.equal(decode(Buffer.alloc(0)).kind, 'drop');
    assert.equal(decode(buildQuery({ name: 'a.consul.', flags: { qr: true } })).kind, 'drop');
  });

  it('answers a non-QUERY opcode with NOTIMP, keeping ID, opcode, RD and the question', () => {
    const reply = expectError(decode(buildQuery({ name: 'Web.Consul.', id: 777, flags: { opcode: 5, rd: true } })), Rcode.NOTIMP);
    assert.equal(reply.id, 777);
    assert.equal(reply.opcode, 5);
    assert.equal(reply.flags.rd, true);
    assert.equal(reply.flags.aa, false);
    assert.equal(reply.question?.name, 'Web.Consul.');
    assert.deepEqual(reply.answer, []);
  });

  it('copies CD into every error reply (NOTIMP, FORMERR, BADVERS), as it copies RD', () => {
    const notimp = expectError(decode(buildQuery({ name: 'a.consul.', flags: { opcode: 2, cd: true } })), Rcode.NOTIMP);
    assert.equal(notimp.flags.cd, true);
    const formerr = expectError(decode(withCounts(buildQuery({ name: 'a.consul.', flags: { cd: true } }), { an: 1 })), Rcode.FORMERR);
    assert.equal(formerr.flags.cd, true);
    const badvers = decode(buildQuery({ name: 'a.consul.', flags: { cd: true }, edns: { version: 1 } }));
    assert.ok(badvers.kind === 'error');
    assert.equal(parseReply(badvers.reply).flags.cd, true);
    const plain = expectError(decode(buildQuery({ name: 'a.consul.', flags: { opcode: 2 } })), Rcode.NOTIMP);
    assert.equal(plain.flags.cd, false);
  });

  it('answers NOTIMP without a question when the question does not decode', () => {
    const raw = Buffer.concat([header(9, 5 << 3, 1), Buffer.from([0xc0, 0x0c]), tail]);
    const reply = expectError(decode(raw), Rcode.NOTIMP);
    assert.equal(reply.question, undefined);
  });

  it('answers FORMERR without a question for qdcount 0 or 2', () => {
    const base = buildQuery({ name: 'a.consul.', id: 31 });
    const zero = expectError(decode(withCounts(base, { qd: 0 })), Rcode.FORMERR);
    assert.equal(zero.id, 31);
    assert.equal(zero.question, undefined);
    const two = Buffer.concat([withCounts(base, { qd: 2 }), base.subarray(12)]);
    assert.equal(expectError(decode(two), Rcode.FORMERR).question, undefined);
  });

  it('answers FORMERR for records in Answer or Authority, and for more than one additional', () => {
    const base = buildQuery({ name: 'a.consul.' });
    expectError(decode(withCounts(base, { an: 1 })), Rcode.FORMERR);
    expectError(decode(withCounts(base, { ns: 1 })), Rcode.FORMERR);
    expectError(decode(withCounts(Buffer.concat([base, buildOpt({}), buildOpt({})]), { ar: 2 })), Rcode.FORMERR);
  });

  it('answers FORMERR for a compression pointer in the question', () => {
    const raw = Buffer.concat([header(1, 0, 1), Buffer.from([1, 0x61, 0xc0, 0x0c]), tail]);
    const reply = expectError(decode(raw), Rcode.FORMERR);
    assert.equal(reply.question, undefined);
  });

  it('answers FORMERR for a label holding a dot, a space or a non-ASCII byte', () => {
    for (const label of ['a.b', 'a b', 'caf\u00e9']) {
      const bytes = Buffer.from(label, 'latin1');
      const raw = Buffer.concat([header(1, 0, 1), Buffer.from([bytes.length]), bytes, Buffer.from([6]), Buffer.from('consul'), Buffer.from([0]), tail]);
      expectError(decode(raw), Rcode.FORMERR);
    }
  });

  it('answers FORMERR for a label over 63 octets and a name over 255', () => {
    const long = Buffer.concat([header(1, 0, 1), Buffer.from([64]), Buffer.alloc(64, 0x61), Buffer.from([0]), tail]);
    expectError(decode(long), Rcode.FORMERR);
    const labels = Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([60]), Buffer.alloc(60, 0x62)]));
    expectError(decode(Buffer.concat([header(1, 0, 1), ...labels, Buffer.from([0]), tail])), Rcode.FORMERR);
    // 4 × 61 + 8 = 252 octets, just inside the limit.
    const ok = Array.from({ length: 4 }, () => Buffer.concat([Buffer.from([61]), Buffer.alloc(61, 0x63)]));
    assert.equal(decode(Buffer.concat([header(1, 0, 1), ...ok, Buffer.from([2, 0x63, 0x63, 0]), tail])).kind, 'query');
  });

  it('answers FORMERR for a truncated question and for trailing bytes', () => {
    const base = buildQuery({ name: 'a.consul.' });
    expectError(decode(base.subarray(0, base.length - 2)), Rcode.FORMERR);
    expectError(decode(Buffer.concat([base, Buffer.from([0])])), Rcode.FORMERR);
  });

  it('answers FORMERR for an over-long query that has a question, drops one that has none', () => {
    const base = buildQuery({ name: 'a.consul.' });
    expectError(decode(Buffer.concat([base, Buffer.alloc(4100)])), Rcode.FORMERR);
    const garbage = Buffer.concat([header(1, 0, 1), Buffer.from([0xc0, 0x0c]), Buffer.alloc(4100)]);
    assert.equal(decode(garbage, 'tcp').kind, 'drop');
  });

  it('reads the OPT: size, DO, and a size under 512 raised to 512', () => {
    const out = decode(buildQuery({ name: 'a.consul.', edns: { udpSize: 4000, do: true } }));
    assert.deepEqual(out.kind === 'query' && out.query.edns, { udpSize: 4000, version: 0, do: true });
    const small = decode(buildQuery({ name: 'a.consul.', edns: { udpSize: 100 } }));
    assert.deepEqual(small.kind === 'query' && small.query.edns, { udpSize: 512, version: 0, do: false });
  });

  it('accepts an OPT carrying well-formed options (a cookie)', () => {
    const base = buildQuery({ name: 'a.consul.' });
    const opt = buildOpt({});
    opt.writeUInt16BE(12, 9);
    const cookie = Buffer.from([0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(decode(Buffer.concat([withCounts(base, { ar: 1 }), opt, cookie])).kind, 'query');
  });

  it('answers FORMERR for a malformed OPT', () => {
    const base = withCounts(buildQuery({ name: 'a.consul.' }), { ar: 1 });
    const rdlenPastEnd = buildOpt({});
    rdlenPastEnd.writeUInt16BE(10, 9);
    expectError(decode(Buffer.concat([base, rdlenPastEnd])), Rcode.FORMERR);
    const badOption = buildOpt({});
    badOption.writeUInt16BE(6, 9);
    expectError(decode(Buffer.concat([base, badOption, Buffer.from([0, 10, 0, 9, 1, 2])])), Rcode.FORMERR);
    const notRoot = Buffer.concat([Buffer.from([1, 0x61]), buildOpt({})]);
    expectError(decode(Buffer.concat([base, notRoot])), Rcode.FORMERR);
    const notOpt = buildOpt({});
    notOpt.writeUInt16BE(1, 1);
    expectError(decode(Buffer.concat([base, notOpt])), Rcode.FORMERR);
    expectError(decode(Buffer.concat([base, buildOpt({}).subarray(0, 8)])), Rcode.FORMERR);
  });

  it('answers BADVERS for EDNS version 1: extended rcode 1 in an OPT of version 0 with our size', () => {
    const raw = buildQuery({ name: 'Web.consul.', id: 99, edns: { udpSize: 4096, version: 1 } });
    const out = decode(raw);
    assert.equal(out.kind, 'error');
    if (out.kind !== 'error') return;
    assert.equal(out.rcode, Rcode.BADVERS);
    assert.equal(out.reply[3]! & 0x0f, 0, 'header rcode is the low 4 bits of 16');
    const reply = parseReply(out.reply);
    assert.equal(reply.id, 99);
    assert.equal(reply.rcodeName, 'BADVERS');
    assert.deepEqual(reply.opt, { udpSize: 1232, version: 0, do: false, extRcode: 1 });
    assert.equal(reply.question?.name, 'Web.consul.');
    assert.deepEqual(reply.errors, []);
  });
});
