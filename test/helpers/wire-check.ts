// A strict, independent DNS message checker for tests: it shares no code with src/ and rejects anything RFC 1035/6891 forbids.
//
//   const m = checkMessage(reply);                 // throws WireError saying what is wrong and where
//   const problem = checkReply(query, reply, 'udp'); // undefined, or why this reply is not a valid answer to query

export class WireError extends Error {}

export interface CheckedQuestion {
  /** The question's bytes as they are on the wire (name, type, class). */
  readonly bytes: Buffer;
  readonly name: string;
  readonly qtype: number;
  readonly qclass: number;
}

export interface CheckedMessage {
  readonly id: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly cd: boolean;
  /** The 4 header bits; with an OPT, `opt.extRcode` holds the upper 8. */
  readonly rcode: number;
  readonly question?: CheckedQuestion;
  readonly counts: readonly [number, number, number, number];
  readonly opt?: { readonly udpSize: number; readonly extRcode: number; readonly version: number; readonly do: boolean };
  readonly size: number;
}

const MAX_LABEL = 63;
const MAX_NAME = 255;
const OPT = 41;

class Reader {
  /** Offsets where a label of an in-place (not pointed-to) name begins: the only valid pointer targets. */
  readonly labelStarts = new Set<number>();
  constructor(readonly buf: Buffer) {}

  need(off: number, n: number, what: string): void {
    if (off + n > this.buf.length) throw new WireError(`${what} at ${off} runs past the end (${this.buf.length})`);
  }

  u16(off: number, what: string): number { this.need(off, 2, what); return this.buf.readUInt16BE(off); }

  /**
   * The name at `start`, which must end by `limit`. A pointer must go strictly backwards to a label start of
   * a name read earlier, so every chain ends; labels are at most 63 octets, names at most 255.
   */
  name(start: number, limit: number, what: string): { text: string; end: number } {
    const labels: string[] = [];
    let octets = 1;
    let off = start;
    let end = -1;
    let floor = start;
    for (let hops = 0; ; hops++) {
      if (hops > 128) throw new WireError(`${what}: too many pointers`);
      if (off >= (end < 0 ? limit : this.buf.length)) throw new WireError(`${what}: name at ${start} runs past ${end < 0 ? 'its bounds' : 'the end'}`);
      const len = this.buf[off] as number;
      if ((len & 0xc0) === 0xc0) {
        if (off + 2 > (end < 0 ? limit : this.buf.length)) throw new WireError(`${what}: pointer at ${off} cut short`);
        const target = this.buf.readUInt16BE(off) & 0x3fff;
        if (end < 0) end = off + 2;
        if (target >= floor) throw new WireError(`${what}: pointer at ${off} to ${target} does not go backwards`);
        if (!this.labelStarts.has(target)) throw new WireError(`${what}: pointer at ${off} to ${target}, not a label start`);
        floor = target;
        off = target;
        continue;
      }
      // Lengths over 63 have a type bit set: 01 and 10 are reserved (RFC 6891 §5 retired 01 as extended labels).
      if (len & 0xc0) throw new WireError(`${what}: reserved label type 0x${len.toString(16)} at ${off}`);
      if (end < 0) this.labelStarts.add(off);
      if (len === 0) { if (end < 0) end = off + 1; break; }
      octets += len + 1;
      if (octets > MAX_NAME) throw new WireError(`${what}: name longer than ${MAX_NAME} octets`);
      if (off + 1 + len > (end < 0 ? limit : this.buf.length)) throw new WireError(`${what}: label at ${off} runs past its bounds`);
      labels.push(this.buf.toString('latin1', off + 1, off + 1 + len));
      off += 1 + len;
    }
    return { text: labels.length === 0 ? '.' : `${labels.join('.')}.`, end };
  }
}

/** RDATA layouts we check field by field; other types only need to stay inside RDLENGTH. */
function checkRdata(r: Reader, type: number, start: number, end: number, what: string): void {
  const len = end - start;
  const nameThen = (off: number, rest: number): void => {
    const n = r.name(off, end, what);
    if (n.end + rest !== end) throw new WireError(`${what}: RDATA is ${len} bytes, fields take ${n.end + rest - start}`);
  };
  switch (type) {
    case 1: if (len !== 4) throw new WireError(`${what}: A with ${len} bytes`); break;
    case 28: if (len !== 16) throw new WireError(`${what}: AAAA with ${len} bytes`); break;
    case 2: case 5: case 12: nameThen(start, 0); break;
    case 15: if (len < 3) throw new WireError(`${what}: MX too short`); nameThen(start + 2, 0); break;
    case 33: if (len < 7) throw new WireError(`${what}: SRV too short`); nameThen(start + 6, 0); break;
    case 6: {
      const m = r.name(start, end, what);
      nameThen(m.end, 20);
      break;
    }
    case 16: {
      if (len === 0) throw new WireError(`${what}: TXT with no character-string`);
      let off = start;
      while (off < end) off += 1 + (r.buf[off] as number);
      if (off !== end) throw new WireError(`${what}: TXT strings overrun RDATA`);
      break;
    }
    default: break;
  }
}

/** Parses and checks a whole message; throws WireError on the first problem. */
export function checkMessage(buf: Buffer): CheckedMessage {
  if (buf.length < 12) throw new WireError(`message of ${buf.length} bytes is shorter than a header`);
  const r = new Reader(buf);
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)] as const;
  if (counts[0] > 1) throw new WireError(`qdcount ${counts[0]}`);
  let off = 12;
  let question: CheckedQuestion | undefined;
  if (counts[0] === 1) {
    const n = r.name(off, buf.length, 'question');
    r.need(n.end, 4, 'question type and class');
    question = { bytes: buf.subarray(off, n.end + 4), name: n.text, qtype: buf.readUInt16BE(n.end), qclass: buf.readUInt16BE(n.end + 2) };
    off = n.end + 4;
  }
  let opt: CheckedMessage['opt'];
  const sections = ['answer', 'authority', 'additional'] as const;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < (counts[s + 1] as number); i++) {
      const what = `${sections[s]}[${i}]`;
      const ownerAt = off;
      const owner = r.name(off, buf.length, `${what} owner`);
      r.need(owner.end, 10, `${what} fixed fields`);
      const type = buf.readUInt16BE(owner.end);
      const klass = buf.readUInt16BE(owner.end + 2);
      const ttl = buf.readUInt32BE(owner.end + 4);
      const rdlen = buf.readUInt16BE(owner.end + 8);
      const start = owner.end + 10;
      if (start + rdlen > buf.length) throw new WireError(`${what}: RDLENGTH ${rdlen} past the end`);
      if (type === OPT) {
        if (s !== 2) throw new WireError(`OPT in the ${sections[s]} section`);
        if (opt) throw new WireError('more than one OPT');
        if (buf[ownerAt] !== 0) throw new WireError('OPT not owned by the root');
        for (let p = start; p < start + rdlen; ) {
          if (p + 4 > start + rdlen) throw new WireError('OPT option header cut short');
          p += 4 + buf.readUInt16BE(p + 2);
          if (p > start + rdlen) throw new WireError('OPT option past RDATA');
        }
        opt = { udpSize: klass, extRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, do: (ttl & 0x8000) !== 0 };
      } else {
        if (klass !== 1) throw new WireError(`${what}: class ${klass}, not IN`);
        if (ttl > 0x7fffffff) throw new WireError(`${what}: TTL ${ttl} has the top bit set`);
        checkRdata(r, type, start, start + rdlen, what);
      }
      off = start + rdlen;
    }
  }
  if (off !== buf.length) throw new WireError(`${buf.length - off} bytes after the last record`);
  const b2 = buf[2] as number;
  const b3 = buf[3] as number;
  return {
    id: buf.readUInt16BE(0), qr: (b2 & 0x80) !== 0, opcode: (b2 >> 3) & 0x0f, aa: (b2 & 0x04) !== 0,
    tc: (b2 & 0x02) !== 0, rd: (b2 & 0x01) !== 0, ra: (b3 & 0x80) !== 0, cd: (b3 & 0x10) !== 0, rcode: b3 & 0x0f,
    ...(question ? { question } : {}), counts, ...(opt ? { opt } : {}), size: buf.length,
  };
}

/** The UDP payload size a query advertises: its OPT's class if it has one right after a plain question, else 0. */
export function advertisedSize(query: Buffer): number {
  if (query.length < 12 || query.readUInt16BE(4) !== 1 || query.readUInt16BE(10) < 1) return 0;
  let off = 12;
  while (off < query.length && query[off] !== 0) {
    const len = query[off] as number;
    if (len > MAX_LABEL) return 0;
    off += 1 + len;
  }
  off += 5;
  if (query.readUInt16BE(6) !== 0 || query.readUInt16BE(8) !== 0) return 0;
  if (off + 11 > query.length || query[off] !== 0 || query.readUInt16BE(off + 1) !== OPT) return 0;
  return query.readUInt16BE(off + 3);
}

/** Our advertised EDNS size: no UDP reply may exceed it. */
export const OUR_UDP_SIZE = 1232;

/** The largest reply a query allows: 65535 over TCP; over UDP 512, or min(its EDNS size, ours) with EDNS. */
export function replyLimit(query: Buffer, proto: 'udp' | 'tcp'): number {
  if (proto === 'tcp') return 65535;
  const adv = advertisedSize(query);
  return adv === 0 ? 512 : Math.min(Math.max(512, adv), OUR_UDP_SIZE);
}

/** Why `reply` is not a valid reply to `query` over `proto`, or undefined when it is. */
export function checkReply(query: Buffer, reply: Buffer, proto: 'udp' | 'tcp'): string | undefined {
  let m: CheckedMessage;
  try {
    m = checkMessage(reply);
  } catch (err) {
    if (err instanceof WireError) return `malformed: ${err.message}`;
    throw err;
  }
  if (!m.qr) return 'QR=0 in a reply';
  if (query.length < 2 || m.id !== query.readUInt16BE(0)) return `ID ${m.id} is not the query's`;
  if (query.length >= 3 && m.opcode !== (((query[2] as number) >> 3) & 0x0f)) return `opcode ${m.opcode} is not the query's`;
  const limit = replyLimit(query, proto);
  if (reply.length > limit) return `${reply.length} bytes, more than the ${limit} the query allows`;
  // A question, when echoed, is the query's own bytes (case kept).
  if (m.question && !query.subarray(12, 12 + m.question.bytes.length).equals(m.question.bytes)) return 'question differs from the query';
  return undefined;
}
