// Every class of bad input, over UDP and TCP, against a real server: the right answer (or none), and the server keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildHeader, buildOpt, buildQuery, connectTcp, encodeName, frame, parseReply, readFrames, sendTcp, sendUdp } from '../helpers/dns-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface BadCase {
  readonly desc: string;
  readonly bytes: () => Buffer;
  /** null = no reply at all. */
  readonly rcode: string | null;
  /** Whether the question is echoed in the reply. */
  readonly echo?: boolean;
}

const good = (): Buffer => buildQuery({ name: 'redis.connect.consul.', type: 'SRV', id: 0x4242 });

const header = buildHeader;
const question = (name: string, type = 33): Buffer => Buffer.concat([encodeName(name), Buffer.from([type >> 8, type & 0xff, 0, 1])]);

const cases: BadCase[] = [
  { desc: 'shorter than a header', bytes: () => Buffer.from([1, 2, 3, 4, 5]), rcode: null },
  { desc: 'a response (QR=1) sent to us', bytes: () => buildQuery({ name: 'redis.connect.consul.', flags: { qr: true } }), rcode: null },
  { desc: 'qdcount 0', bytes: () => header(7, 0x0100, 0, 0, 0, 0), rcode: 'FORMERR', echo: false },
  { desc: 'qdcount 2', bytes: () => Buffer.concat([header(7, 0x0100, 2, 0, 0, 0), question('a.consul.'), question('b.consul.')]), rcode: 'FORMERR', echo: false },
  { desc: 'question name with a compression loop', bytes: () => Buffer.concat([header(7, 0x0100, 1, 0, 0, 0), Buffer.from([0xc0, 12, 0, 1, 0, 1])]), rcode: 'FORMERR', echo: false },
  { desc: 'label length past the end', bytes: () => Buffer.concat([header(7, 0x0100, 1, 0, 0, 0), Buffer.from([40, 0x61, 0x62])]), rcode: 'FORMERR', echo: false },
  { desc: 'answer records in a query', bytes: () => Buffer.concat([header(7, 0x0100, 1, 1, 0, 0), question('redis.connect.consul.')]), rcode: 'FORMERR', echo: true },
  { desc: 'opcode UPDATE', bytes: () => buildQuery({ name: 'redis.connect.consul.', flags: { opcode: 5 } }), rcode: 'NOTIMP', echo: true },
  { desc: 'opcode STATUS', bytes: () => buildQuery({ name: 'redis.connect.consul.', flags: { opcode: 2 } }), rcode: 'NOTIMP', echo: true },
  { desc: 'EDNS version 1', bytes: () => buildQuery({ name: 'redis.connect.consul.', type: 'SRV', edns: { version: 1 } }), rcode: 'BADVERS', echo: true },
  { desc: 'a malformed OPT (option past RDATA)', bytes: () => {
    const opt = buildOpt({});
    const withOption = Buffer.concat([opt.subarray(0, 9), Buffer.from([0, 4, 0, 10, 0, 40])]);
    return Buffer.concat([header(7, 0x0100, 1, 0, 0, 1), question('redis.connect.consul.'), withOption]);
  }, rcode: 'FORMERR', echo: true },
  { desc: 'the pointer-amplification packet (10,000 questions)', bytes: () => {
    const name = encodeName(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}.`);
    const ptr = Buffer.from([0xc0, 12, 0, 1, 0, 1]);
    return Buffer.concat([header(7, 0x0100, 10_000, 0, 0, 0), name, Buffer.from([0, 1, 0, 1]), ...Array.from({ length: 4000 }, () => ptr)]);
  }, rcode: 'FORMERR', echo: false },
  { desc: 'AXFR', bytes: () => buildQuery({ name: 'consul.', type: 252 }), rcode: 'NOTIMP', echo: true },
  { desc: 'IXFR', bytes: () => buildQuery({ name: 'consul.', type: 251 }), rcode: 'NOTIMP', echo: true },
  { desc: 'class CH', bytes: () => buildQuery({ name: 'version.bind.', type: 'TXT', qclass: 3 }), rcode: 'REFUSED', echo: true },
  { desc: 'class CH inside the zone', bytes: () => buildQuery({ name: 'redis.connect.consul.', type: 'SRV', qclass: 3 }), rcode: 'REFUSED', echo: true },
];

function assertGood(buf: Buffer): void {
  const r = parseReply(buf);
  assert.equal(r.id, 0x4242);
  assert.equal(r.rcodeName, 'NOERROR');
  assert.deepEqual(r.answer, ['redis.connect.consul. 0 IN SRV 1 1 8181 ref-node.node.dc1.consul.']);
}

describe('bad input never stops the server', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ dirs: [fileURLToPath(new URL('../fixtures/reference/', import.meta.url))] });
  });
  after(() => srv.close());

  for (const c of cases) {
    it(`UDP: ${c.desc} → ${c.rcode ?? 'no reply'}, then a good query is answered`, async () => {
      const bytes = c.bytes();
      if (c.rcode === null) {
        await assert.rejects(sendUdp(srv.port, bytes, { timeoutMs: 300 }), /timed out/);
      } else {
        const reply = await sendUdp(srv.port, bytes);
        const r = parseReply(reply);
        assert.equal(r.rcodeName, c.rcode);
        assert.equal(r.id, bytes.readUInt16BE(0), 'ID kept');
        assert.equal(r.flags.qr, true);
        assert.equal(r.answer.length + r.authority.length, 0);
        assert.equal(r.question !== undefined, c.echo === true, 'question echoed only when it decoded');
        assert.ok(reply.length <= Math.max(bytes.length, 512), 'never amplified');
      }
      assertGood(await sendUdp(srv.port, good()));
    });

    it(`TCP: ${c.desc} → ${c.rcode ?? 'no reply'}, then a good query is answered`, async (t) => {
      const bytes = c.bytes();
      if (bytes.length > 65535) return t.skip('cannot be framed');
      const s = await connectTcp(srv.port);
      t.after(() => s.destroy());
      if (c.rcode === null) {
        // Dropped silently; the connection stays usable.
        const pending = readFrames(s, 1, 2000);
        s.write(Buffer.concat([frame(bytes), frame(good())]));
        const { messages } = await pending;
        assert.equal(messages.length, 1);
        assertGood(messages[0] as Buffer);
        return;
      }
      const pending = readFrames(s, 2, 2000);
      s.write(Buffer.concat([frame(bytes), frame(good())]));
      const { messages } = await pending;
      const replies = messages.map(parseReply);
      const bad = replies.find((r) => r.id === bytes.readUInt16BE(0) && r.id !== 0x4242);
      assert.ok(bad, 'the bad query got its reply');
      assert.equal(bad.rcodeName, c.rcode);
      assertGood(messages[replies.findIndex((r) => r.id === 0x4242)] as Buffer);
    });
  }

  it('a zero-length TCP frame closes only that connection', async () => {
    const s = await connectTcp(srv.port);
    const pending = readFrames(s, 1, 2000);
    s.write(Buffer.from([0, 0]));
    const { closed, messages } = await pending;
    assert.equal(closed, true);
    assert.equal(messages.length, 0);
    assertGood(await sendTcp(srv.port, good()));
  });

  it('a query trickled one byte at a time over TCP is answered', async () => {
    const s = await connectTcp(srv.port);
    try {
      const pending = readFrames(s, 1, 5000);
      const bytes = frame(good());
      for (const b of bytes) {
        s.write(Buffer.from([b]));
        await new Promise((r) => setTimeout(r, 2));
      }
      assertGood((await pending).messages[0] as Buffer);
    } finally {
      s.destroy();
    }
  });

  it('an EDNS client advertising 65535 gets at most our 1232 bytes, with TC when the answer is larger', async (t) => {
    // 100 instances: an answer far larger than 1232 bytes, so the size limit is what shapes the reply.
    const rich = await startTestServer({ dirs: [fileURLToPath(new URL('../fixtures/rich/', import.meta.url))] });
    t.after(() => rich.close());
    for (const type of ['SRV', 'A'] as const) {
      const whole = await sendTcp(rich.port, buildQuery({ name: 'big.service.consul.', type, edns: { udpSize: 65535 } }));
      assert.equal(parseReply(whole).answer.length, 100, `${type}: TCP carries every instance`);
      assert.ok(whole.length > 1232, `${type}: the full answer is ${whole.length} bytes, more than 1232`);
      // Answers are shuffled, so several replies are checked, each over UDP only.
      for (let i = 0; i < 5; i++) {
        const reply = await sendUdp(rich.port, buildQuery({ name: 'big.service.consul.', type, edns: { udpSize: 65535 } }));
        const r = parseReply(reply);
        assert.equal(r.rcodeName, 'NOERROR');
        assert.equal(r.opt?.udpSize, 1232, 'we advertise our own size');
        assert.ok(reply.length <= 1232, `${type}: a ${reply.length}-byte UDP reply`);
        assert.equal(r.flags.tc, true, `${type}: TC says records were left out`);
        assert.ok(r.answer.length > 3 && r.answer.length < 100, `${type}: ${r.answer.length} answers fit`);
      }
    }
  });
});
