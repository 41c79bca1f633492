// The reply cache on its own: what its key separates, how a template is patched, and its bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeQuery, maxReplySize, type EncodeOptions } from '../../src/dns/codec.js';
import type { Query, Transport } from '../../src/dns/records.js';
import { buildReplyKey, patchReply, ReplyCache, toCanonicalQuery } from '../../src/dns/reply-cache.js';
import { buildQuery, parseReply, type QuerySpec } from '../helpers/dns-client.js';

const ENCODE: EncodeOptions = { ra: false, compress: true, udpPayloadSize: 1232 };

function decoded(spec: QuerySpec, proto: Transport = 'udp'): Query {
  const d = decodeQuery(buildQuery(spec), proto, { address: '127.0.0.1', port: 5353 }, { udpPayloadSize: 1232 });
  assert.equal(d.kind, 'query');
  return (d as { query: Query }).query;
}

const keyOf = (spec: QuerySpec, proto: Transport = 'udp', encode = ENCODE): string => {
  const q = decoded(spec, proto);
  return buildReplyKey(q, maxReplySize(q, encode), !encode.compress);
};

const meta = { want: 1, second: -1, zone: 'domain', rcode: 0 } as const;

describe('reply key', () => {
  const base: QuerySpec = { name: 'web.service.consul.', type: 'SRV' };

  it('separates everything that changes the bytes', () => {
    const keys = [
      keyOf(base),
      keyOf({ ...base, type: 'A' }),
      keyOf({ ...base, qclass: 255 }),
      keyOf({ ...base, name: 'db.service.consul.' }),
      keyOf(base, 'tcp'),
      keyOf({ ...base, edns: { udpSize: 1232 } }),
      keyOf({ ...base, edns: { udpSize: 1232, do: true } }),
      keyOf({ ...base, edns: { udpSize: 1232 } }, 'tcp'),
      keyOf({ ...base, edns: { udpSize: 700 } }),
      keyOf({ ...base, edns: { udpSize: 512 } }),
    ];
    assert.equal(new Set(keys).size, keys.length, keys.join('\n'));
  });

  it('a client asking above 512 differs from one at 512 even when our own limit is 512', () => {
    const small: EncodeOptions = { ...ENCODE, udpPayloadSize: 512 };
    assert.notEqual(keyOf({ ...base, edns: { udpSize: 512 } }, 'udp', small), keyOf({ ...base, edns: { udpSize: 4096 } }, 'udp', small));
  });

  it('shares what a hit patches: ID, RD, CD, case, and client sizes that end at the same limit', () => {
    const k = keyOf({ ...base, edns: { udpSize: 4096 } });
    assert.equal(keyOf({ ...base, name: 'WEB.Service.consul.', id: 9, flags: { rd: false, cd: true }, edns: { udpSize: 2000 } }), k);
    assert.equal(keyOf(base, 'tcp'), keyOf({ ...base, edns: undefined, id: 77 }, 'tcp'));
  });

  it('keeps case apart when compression is off', () => {
    const off = { ...ENCODE, compress: false };
    assert.notEqual(keyOf({ ...base, name: 'Web.service.consul.' }, 'udp', off), keyOf(base, 'udp', off));
  });
});

describe('patchReply', () => {
  it('puts in the ID, RD, CD and question of the query and keeps every other byte', () => {
    const q0 = decoded({ name: 'web.service.consul.', id: 1, flags: { rd: true } });
    // A stand-in reply: header (QR, AA, RA set), question, and some record bytes.
    const template = Buffer.concat([q0.raw.subarray(0, q0.questionEnd), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 10, 0, 0, 1])]);
    template[2] = 0x85;
    template[3] = 0x80;
    template.writeUInt16BE(1, 6);
    const q = decoded({ name: 'Web.SERVICE.consul.', id: 0xbeef, flags: { rd: false, cd: true } });
    const out = patchReply(template, q);
    assert.equal(out.readUInt16BE(0), 0xbeef);
    assert.equal(out[2], 0x84, 'RD cleared, QR and AA kept');
    assert.equal(out[3], 0x90, 'CD set, RA kept');
    assert.equal(parseReply(out).question?.name, 'Web.SERVICE.consul.');
    assert.deepEqual(out.subarray(q.questionEnd), template.subarray(q0.questionEnd));
    assert.equal(template.readUInt16BE(0), 1, 'the template itself is untouched');
  });

  it('toCanonicalQuery lower-cases the name and question bytes only', () => {
    const q = decoded({ name: 'Web.SERVICE.Consul.', type: 'SRV', id: 5 });
    const c = toCanonicalQuery(q);
    assert.equal(c.name, 'web.service.consul.');
    assert.deepEqual(c.raw.subarray(12, c.questionEnd), decoded({ name: 'web.service.consul.', type: 'SRV' }).raw.subarray(12, c.questionEnd));
    assert.equal(c.raw.readUInt16BE(0), 5);
    assert.equal(q.raw.toString('latin1', 13, 16), 'Web', 'the query asked is untouched');
  });
});

describe('ReplyCache bounds', () => {
  const reply = (n: number): Buffer => Buffer.alloc(n, 7);

  it('holds at most maxEntries, dropping the oldest first', () => {
    const c = new ReplyCache({ maxEntries: 5, maxBytes: 1 << 20 });
    for (let i = 0; i < 100; i++) {
      c.add(`k${i}`, reply(50), meta);
      assert.ok(c.size <= 5);
    }
    assert.deepEqual([95, 96, 97, 98, 99].map((i) => c.get(`k${i}`) !== undefined), [true, true, true, true, true]);
    assert.equal(c.get('k94'), undefined);
  });

  it('holds at most maxBytes, counting overhead, and refuses what can never fit', () => {
    const c = new ReplyCache({ maxEntries: 1000, maxBytes: 4000 });
    for (let i = 0; i < 50; i++) {
      c.add(`k${i}`, reply(500), meta);
      assert.ok(c.bytes <= 4000, `bytes ${c.bytes}`);
    }
    assert.ok(c.size >= 2 && c.size < 8, `size ${c.size}`);
    assert.equal(c.add('huge', reply(5000), meta), undefined);
    assert.equal(c.get('huge'), undefined);
    assert.ok(c.get('k49'), 'the newest entry stays');
  });

  it('variants grow an entry within the bound, evicting others, and stop when nothing is left to evict', () => {
    const c = new ReplyCache({ maxEntries: 10, maxBytes: 2000 });
    c.add('other', reply(400), meta);
    const e = c.add('shuffled', reply(400), { ...meta, want: 4 });
    assert.ok(e);
    for (let i = 0; i < 3; i++) {
      c.addVariant('shuffled', e, reply(400));
      assert.ok(c.bytes <= 2000, `bytes ${c.bytes}`);
    }
    assert.equal(c.get('other'), undefined, 'the older entry made room');
    assert.ok(e.variants.length < 4 && e.want === e.variants.length, 'the entry stopped collecting and serves what it has');
    assert.ok(c.get('shuffled'));
  });

  it('clear() empties the cache at once', () => {
    const c = new ReplyCache({ maxEntries: 10, maxBytes: 1 << 20 });
    c.add('a', reply(10), meta);
    c.clear();
    assert.equal(c.size, 0);
    assert.equal(c.bytes, 0);
    assert.equal(c.get('a'), undefined);
  });

  it('stores its own compact copy of a reply', () => {
    const c = new ReplyCache();
    const r = reply(30);
    const e = c.add('a', r, meta);
    r.fill(0);
    assert.deepEqual(e?.variants[0], reply(30));
    assert.equal(e?.variants[0]?.buffer.byteLength, 30);
  });
});
