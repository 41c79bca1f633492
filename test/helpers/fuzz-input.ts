// Seeded hostile DNS messages for the fuzz battery: valid queries, their mutations, and each class of malformed input.
import { buildOpt, encodeName } from './dns-client.js';

export type Rand = () => number;

export interface FuzzCase {
  /** Which generator made it, for the failure report. */
  readonly kind: string;
  readonly bytes: Buffer;
}

/** Names the server answers itself (rich fixture: domain consul., alt domain alt.example, dc lab1) and names it forwards. */
const NAMES = [
  'alpha.node.consul.', 'web.service.consul.', 'big.service.consul.', 'db.service.lab1.consul.', 'web.connect.consul.',
  'v1.2.web.service.consul.', '_web._tcp.service.consul.', '_big._tcp.consul.', '0a000001.addr.consul.',
  '20010db8000000000000000000000020.addr.lab1.consul.', '1.0.0.10.in-addr.arpa.', '7.0.0.127.in-addr.arpa.',
  'consul.', 'alt.example.', 'big.service.alt.example.', 'nope.service.consul.', 'x.node.other-dc.consul.',
  'some.query.consul.', 'a.b.c.d.e.f.consul.', 'WeB.SeRvIcE.CoNsUl.', 'BIG.service.CONSUL.',
  'example.com.', 'www.example.org.', 'big.example.net.', 'Big.Example.Net.', 'deep.a.b.c.example.com.', '.',
];
const QTYPES = [1, 28, 33, 16, 255, 6, 2, 12, 5, 15, 252, 251, 0, 65280, 65535, 41, 99];

export const pick = <T>(rand: Rand, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
export const int = (rand: Rand, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const bytesOf = (rand: Rand, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(rand, 0, 255)));

function header(rand: Rand, o: { flags?: number; qd?: number; an?: number; ns?: number; ar?: number } = {}): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(int(rand, 0, 0xffff), 0);
  h.writeUInt16BE(o.flags ?? (rand() < 0.8 ? 0x0100 : 0), 2);
  h.writeUInt16BE(o.qd ?? 1, 4);
  h.writeUInt16BE(o.an ?? 0, 6);
  h.writeUInt16BE(o.ns ?? 0, 8);
  h.writeUInt16BE(o.ar ?? 0, 10);
  return h;
}

const u16 = (v: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(v & 0xffff); return b; };
const tail = (qtype: number, qclass = 1): Buffer => Buffer.concat([u16(qtype), u16(qclass)]);

function ednsSize(rand: Rand): number {
  return pick(rand, [0, 1, 100, 511, 512, 513, 1024, 1232, 1233, 1400, 4096, 65535]);
}

/** A query a real client could send: some name, some type, with or without an OPT. */
export function validQuery(rand: Rand): Buffer {
  const edns = rand() < 0.6;
  const parts = [header(rand, { ar: edns ? 1 : 0, flags: (rand() < 0.9 ? 0x0100 : 0) | (rand() < 0.2 ? 0x0010 : 0) }),
    encodeName(pick(rand, NAMES)), tail(pick(rand, QTYPES), rand() < 0.95 ? 1 : 255)];
  if (edns) parts.push(buildOpt({ udpSize: ednsSize(rand), do: rand() < 0.3 }));
  return Buffer.concat(parts);
}

/** One to four edits: bit flips, random bytes, inserts, deletes, truncation, a duplicated slice. */
export function mutate(rand: Rand, src: Buffer): Buffer {
  let b = Buffer.from(src);
  for (let n = int(rand, 1, 4); n > 0; n--) {
    const at = b.length === 0 ? 0 : int(rand, 0, b.length - 1);
    switch (int(rand, 0, 5)) {
      case 0: if (b.length > 0) b[at] = (b[at] as number) ^ (1 << int(rand, 0, 7)); break;
      case 1: if (b.length > 0) b[at] = int(rand, 0, 255); break;
      case 2: b = Buffer.concat([b.subarray(0, at), bytesOf(rand, int(rand, 1, 8)), b.subarray(at)]); break;
      case 3: b = Buffer.concat([b.subarray(0, at), b.subarray(at + int(rand, 1, 8))]); break;
      case 4: b = b.subarray(0, at); break;
      default: b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + int(rand, 1, 24)), b.subarray(at)]); break;
    }
  }
  return b;
}

function badLabels(rand: Rand): Buffer {
  const q = (name: Buffer): Buffer => Buffer.concat([header(rand), name, tail(pick(rand, QTYPES))]);
  switch (int(rand, 0, 5)) {
    case 0: return q(Buffer.from([int(rand, 64, 191), 0x61, 0x62, 0]));
    case 1: return Buffer.concat([header(rand), Buffer.from([int(rand, 10, 63), 0x61, 0x62])]);
    case 2: return q(Buffer.from([pick(rand, [0x40, 0x41, 0x80, 0xbf]), 1, 2, 0]));
    case 3: return q(Buffer.concat([...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), Buffer.from([0])]));
    case 4: return q(Buffer.from([3, 0x61, 0x00, 0x2e, 3, 0x20, 0xff, 0x7f, 0]));
    default: return q(Buffer.from([1, 0x61, 0, 0, 0, 0]));
  }
}

/** Compression loops, forward pointers and pointers past the end, in the question and in records. */
function pointers(rand: Rand): Buffer {
  const ptr = (t: number): Buffer => u16(0xc000 | t);
  switch (int(rand, 0, 5)) {
    case 0: return Buffer.concat([header(rand), ptr(12), tail(1)]);
    case 1: return Buffer.concat([header(rand), Buffer.from([1, 0x61]), ptr(12), tail(1)]);
    case 2: return Buffer.concat([header(rand), ptr(int(rand, 13, 0x3fff)), tail(1)]);
    case 3: return Buffer.concat([header(rand), Buffer.from([3, 0x77, 0x77, 0x77]), ptr(20), tail(1), Buffer.from([7]), Buffer.from('example'), Buffer.from([0])]);
    case 4: {
      // A valid question, then an additional record whose owner loops.
      const name = encodeName(pick(rand, NAMES));
      return Buffer.concat([header(rand, { ar: 1 }), name, tail(1), ptr(12 + name.length + 4), u16(41), u16(1232), Buffer.alloc(6)]);
    }
    default: {
      const name = encodeName(pick(rand, NAMES));
      return Buffer.concat([header(rand, { an: 1 }), name, tail(1), ptr(int(rand, 0, 0x3fff)), u16(1), u16(1), Buffer.alloc(4), u16(4), Buffer.alloc(4)]);
    }
  }
}

function hugeCounts(rand: Rand): Buffer {
  const big = (): number => pick(rand, [2, 255, 256, 4096, 0x7fff, 0xffff]);
  const which = int(rand, 0, 3);
  const counts = { qd: which === 0 ? big() : 1, an: which === 1 ? big() : 0, ns: which === 2 ? big() : 0, ar: which === 3 ? big() : 0 };
  const q = Buffer.concat([encodeName(pick(rand, NAMES)), tail(pick(rand, QTYPES))]);
  return Buffer.concat([header(rand, counts), ...Array.from({ length: int(rand, 1, 3) }, () => q)]);
}

/** Two OPTs, an OPT not owned by the root, bad option lengths, EDNS versions above 0, an OPT in the answer. */
function badOpt(rand: Rand): Buffer {
  const q = Buffer.concat([encodeName(pick(rand, NAMES)), tail(pick(rand, QTYPES))]);
  const opt = buildOpt({ udpSize: ednsSize(rand), do: rand() < 0.5 });
  const withOptions = (options: Buffer, rdlen = options.length): Buffer => Buffer.concat([opt.subarray(0, 9), u16(rdlen), options]);
  switch (int(rand, 0, 7)) {
    case 0: return Buffer.concat([header(rand, { ar: 2 }), q, opt, opt]);
    case 1: return Buffer.concat([header(rand, { ar: 1 }), q, encodeName('evil.'), opt.subarray(1)]);
    case 2: return Buffer.concat([header(rand, { ar: 1 }), q, withOptions(Buffer.from([0, 10, 0, 40, 1, 2]))]);
    case 3: return Buffer.concat([header(rand, { ar: 1 }), q, withOptions(Buffer.from([0, 10, 0]))]);
    case 4: return Buffer.concat([header(rand, { ar: 1 }), q, withOptions(Buffer.from([0, 10, 0, 2, 1, 2]), int(rand, 7, 300))]);
    case 5: return Buffer.concat([header(rand, { ar: 1 }), q, buildOpt({ version: int(rand, 1, 255), udpSize: ednsSize(rand), do: rand() < 0.5 })]);
    case 6: return Buffer.concat([header(rand, { an: 1 }), q, opt]);
    default: return Buffer.concat([header(rand, { ar: 1 }), q, withOptions(Buffer.concat([u16(int(rand, 0, 0xffff)), u16(8), bytesOf(rand, 8), u16(12), u16(0)]))]);
  }
}

/** Generates one case of each class in turn, weighted towards mutated valid queries. */
export function udpCase(rand: Rand): FuzzCase {
  const r = rand();
  if (r < 0.3) return { kind: 'mutated', bytes: mutate(rand, validQuery(rand)) };
  if (r < 0.42) return { kind: 'valid', bytes: validQuery(rand) };
  if (r < 0.48) return { kind: 'random', bytes: bytesOf(rand, int(rand, 0, 600)) };
  if (r < 0.52) return { kind: 'short header', bytes: bytesOf(rand, int(rand, 0, 11)) };
  if (r < 0.59) return { kind: 'bad label', bytes: badLabels(rand) };
  if (r < 0.66) return { kind: 'pointer', bytes: pointers(rand) };
  if (r < 0.71) return { kind: 'huge counts', bytes: hugeCounts(rand) };
  if (r < 0.79) return { kind: 'bad OPT', bytes: badOpt(rand) };
  if (r < 0.84) {
    const b = validQuery(rand);
    const qEnd = 12 + b.subarray(12).indexOf(0) + 1;
    b.writeUInt16BE(int(rand, 0, 0xffff), qEnd);
    b.writeUInt16BE(pick(rand, [0, 2, 3, 4, 254, 255, int(rand, 5, 0xffff)]), qEnd + 2);
    return { kind: 'type and class', bytes: b };
  }
  if (r < 0.88) { const b = validQuery(rand); b[2] = (b[2] as number) | 0x80; return { kind: 'QR set', bytes: b }; }
  if (r < 0.94) {
    const b = validQuery(rand);
    b[2] = ((b[2] as number) & 0x87) | (int(rand, 0, 15) << 3);
    return { kind: 'opcode', bytes: b };
  }
  if (r < 0.97) {
    const b = validQuery(rand);
    b[2] = ((b[2] as number) & 0xf8) | int(rand, 0, 7);
    b[3] = int(rand, 0, 255);
    return { kind: 'header bits', bytes: b };
  }
  return { kind: 'oversized', bytes: Buffer.concat([validQuery(rand), bytesOf(rand, int(rand, 3000, 9000))]) };
}
