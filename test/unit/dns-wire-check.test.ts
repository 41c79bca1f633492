// The fuzz battery's independent reply checker: it accepts a well-formed reply and names each way one can be broken.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildOpt, buildQuery, encodeName } from '../helpers/dns-client.js';
import { checkMessage, checkReply, replyLimit, WireError } from '../helpers/wire-check.js';

const u16 = (v: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; };

function header(o: { id?: number; flags?: number; qd?: number; an?: number; ns?: number; ar?: number }): Buffer {
  return Buffer.concat([u16(o.id ?? 7), u16(o.flags ?? 0x8180), u16(o.qd ?? 1), u16(o.an ?? 0), u16(o.ns ?? 0), u16(o.ar ?? 0)]);
}
const question = Buffer.concat([encodeName('web.consul.'), u16(1), u16(1)]);
const rr = (owner: Buffer, type: number, rdata: Buffer, ttl = 60, klass = 1, rdlen = rdata.length): Buffer =>
  Buffer.concat([owner, u16(type), u16(klass), u32(ttl), u16(rdlen), rdata]);
const A = rr(u16(0xc00c), 1, Buffer.from([10, 0, 0, 1]));

/** The reason checkMessage gives, or 'ok'. */
function verdict(b: Buffer): string {
  try {
    checkMessage(b);
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof WireError);
    return err.message;
  }
}

describe('checkMessage', () => {
  it('accepts a reply with a backward pointer, a CNAME, an SRV and one OPT', () => {
    const cname = rr(u16(0xc00c), 5, Buffer.concat([Buffer.from([1, 0x78]), u16(0xc010)]));
    const srv = rr(u16(0xc00c), 33, Buffer.concat([u16(1), u16(1), u16(80), encodeName('n.node.consul.')]));
    const m = checkMessage(Buffer.concat([header({ an: 3, ar: 1 }), question, A, cname, srv, buildOpt({ udpSize: 1232 })]));
    assert.equal(m.question?.name, 'web.consul.');
    assert.deepEqual(m.opt, { udpSize: 1232, extRcode: 0, version: 0, do: false });
    assert.equal(verdict(Buffer.concat([header({ qd: 0 })])), 'ok');
  });

  const broken: [string, Buffer, RegExp][] = [
    ['shorter than a header', Buffer.alloc(11), /shorter than a header/],
    ['a forward pointer', Buffer.concat([header({ an: 1 }), question, rr(u16(0xc000 | 40), 1, Buffer.alloc(4)), Buffer.from([0])]), /does not go backwards/],
    ['a pointer to itself', Buffer.concat([header({ an: 1 }), question, rr(u16(0xc000 | (12 + question.length)), 1, Buffer.alloc(4))]), /backwards/],
    ['a pointer into a label', Buffer.concat([header({ an: 1 }), question, rr(u16(0xc00d), 1, Buffer.alloc(4))]), /not a label start/],
    ['a loop through two pointers', Buffer.concat([header({ an: 2 }), question,
      rr(u16(0xc000 | (12 + question.length + 16)), 1, Buffer.alloc(4)), rr(u16(0xc000 | (12 + question.length)), 1, Buffer.alloc(4))]), /backwards/],
    ['more answers counted than present', Buffer.concat([header({ an: 2 }), question, A]), /runs past/],
    ['a trailing byte', Buffer.concat([header({ an: 1 }), question, A, Buffer.from([0])]), /after the last record/],
    ['two OPTs', Buffer.concat([header({ ar: 2 }), question, buildOpt({}), buildOpt({})]), /more than one OPT/],
    ['an OPT not owned by the root', Buffer.concat([header({ ar: 1 }), question, encodeName('x.'), buildOpt({}).subarray(1)]), /not owned by the root/],
    ['an OPT in the answer', Buffer.concat([header({ an: 1 }), question, buildOpt({})]), /OPT in the answer/],
    ['an OPT option past RDATA', Buffer.concat([header({ ar: 1 }), question, buildOpt({}).subarray(0, 9), u16(4), u16(10), u16(9)]), /option past RDATA/],
    ['RDLENGTH past the end', Buffer.concat([header({ an: 1 }), question, rr(u16(0xc00c), 1, Buffer.alloc(4), 60, 1, 9)]), /RDLENGTH/],
    ['an A of 5 bytes', Buffer.concat([header({ an: 1 }), question, rr(u16(0xc00c), 1, Buffer.alloc(5))]), /A with 5 bytes/],
    ['a CNAME whose name ends before RDATA', Buffer.concat([header({ an: 1 }), question, rr(u16(0xc00c), 5, Buffer.from([0, 0]))]), /RDATA is 2 bytes/],
    ['a label length of 64 (type bits 01)', Buffer.concat([header({}), Buffer.from([64]), Buffer.alloc(64, 0x61), Buffer.from([0, 0, 1, 0, 1])]), /reserved label type 0x40/],
    ['the reserved label type 10', Buffer.concat([header({}), Buffer.from([0x80, 0, 0, 1, 0, 1])]), /reserved label type 0x80/],
    ['a name over 255 octets', Buffer.concat([header({}), ...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])),
      Buffer.from([0, 0, 1, 0, 1])]), /longer than 255/],
    ['a TTL with the top bit set', Buffer.concat([header({ an: 1 }), question, rr(u16(0xc00c), 1, Buffer.alloc(4), 0x80000000)]), /top bit/],
    ['a record of class CH', Buffer.concat([header({ an: 1 }), question, rr(u16(0xc00c), 1, Buffer.alloc(4), 60, 3)]), /class 3/],
    ['two questions', Buffer.concat([header({ qd: 2 }), question, question]), /qdcount 2/],
  ];
  for (const [what, bytes, reason] of broken) {
    it(`rejects ${what}`, () => assert.match(verdict(bytes), reason));
  }
});

describe('checkReply', () => {
  const q = buildQuery({ name: 'web.consul.', id: 7 });
  const ok = Buffer.concat([header({ an: 1 }), question, A]);

  it('accepts the reply to its query', () => assert.equal(checkReply(q, ok, 'udp'), undefined));

  it('rejects QR=0, another ID, another opcode and another question', () => {
    assert.match(checkReply(q, Buffer.concat([header({ flags: 0x0180 }), question]), 'udp') ?? '', /QR=0/);
    assert.match(checkReply(q, Buffer.concat([header({ id: 8 }), question]), 'udp') ?? '', /ID 8/);
    assert.match(checkReply(q, Buffer.concat([header({ flags: 0x8980 }), question]), 'udp') ?? '', /opcode 1/);
    const other = Buffer.concat([encodeName('Web.consul.'), u16(1), u16(1)]);
    assert.match(checkReply(q, Buffer.concat([header({}), other]), 'udp') ?? '', /question differs/);
  });

  it('holds UDP replies to 512 without EDNS and min(advertised, 1232) with it; TCP to 65535', () => {
    const edns = (udpSize: number): Buffer => buildQuery({ name: 'web.consul.', id: 7, edns: { udpSize } });
    assert.equal(replyLimit(q, 'udp'), 512);
    assert.equal(replyLimit(edns(100), 'udp'), 512);
    assert.equal(replyLimit(edns(800), 'udp'), 800);
    assert.equal(replyLimit(edns(4096), 'udp'), 1232);
    assert.equal(replyLimit(q, 'tcp'), 65535);
    const big = Buffer.concat([header({ an: 40 }), question, ...Array.from({ length: 40 }, () => A)]);
    assert.ok(big.length > 512 && big.length < 1232);
    assert.match(checkReply(q, big, 'udp') ?? '', /more than the 512/);
    assert.equal(checkReply(edns(1232), big, 'udp'), undefined);
    assert.equal(checkReply(q, big, 'tcp'), undefined);
  });
});
