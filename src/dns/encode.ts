// Message encoding from our typed records: validated RDATA, case-preserving name compression, byte-level writes.
import { parseIp } from '../net/addr.js';
import { DnsClass, RrType, type Query, type Rr } from './records.js';

export interface Sections {
  readonly answer: readonly Rr[];
  readonly authority: readonly Rr[];
  readonly additional: readonly Rr[];
}

export interface MessageHeader {
  readonly aa: boolean;
  readonly tc: boolean;
  readonly ra: boolean;
  /** Full rcode; the bits above 4 go into the OPT (RFC 6891 §6.1.3). */
  readonly rcode: number;
}

export interface OptSpec {
  readonly udpSize: number;
  readonly do: boolean;
}

/** An OPT with no options: root owner, type, class, TTL, RDLENGTH. */
export const OPT_SIZE = 11;

const MAX_TTL = 0x7fffffff;
const POINTER_LIMIT = 0x4000;

class WireWriter {
  private buf: Buffer;
  len = 0;
  /** Exact-case suffix → offset: a pointer never changes how a name reads (dns2's lower-cased map does). */
  private readonly names: Map<string, number> | undefined;

  constructor(size: number, compress: boolean) {
    this.buf = Buffer.allocUnsafe(size);
    this.names = compress ? new Map() : undefined;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void { this.room(1); this.buf[this.len++] = v; }
  u16(v: number): void { this.room(2); this.buf.writeUInt16BE(v, this.len); this.len += 2; }
  u32(v: number): void { this.room(4); this.buf.writeUInt32BE(v, this.len); this.len += 4; }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.len); this.len += b.length; }
  patch16(at: number, v: number): void { this.buf.writeUInt16BE(v, at); }

  /** Remembers the suffixes of a name already written at `at` (the echoed question). */
  seed(name: string, at: number): void {
    if (!this.names) return;
    const labels = toLabels(name);
    let off = at;
    for (let i = 0; i < labels.length; i++) {
      if (off < POINTER_LIMIT) this.names.set(labels.slice(i).join('.'), off);
      off += 1 + (labels[i] as string).length;
    }
  }

  name(name: string, compress = true): void {
    const labels = toLabels(name);
    for (let i = 0; i < labels.length; i++) {
      const suffix = this.names ? labels.slice(i).join('.') : '';
      const ptr = this.names?.get(suffix);
      if (compress && ptr !== undefined) { this.u16(0xc000 | ptr); return; }
      if (this.names && this.len < POINTER_LIMIT && !this.names.has(suffix)) this.names.set(suffix, this.len);
      const label = labels[i] as string;
      this.u8(label.length);
      this.room(label.length);
      this.len += this.buf.write(label, this.len, 'latin1');
    }
    this.u8(0);
  }

  done(): Buffer { return this.buf.subarray(0, this.len); }
}

/** Labels of an FQDN ("a.b." or "a.b"; "." is the root), validated against RFC 1035 limits. */
function toLabels(name: string): string[] {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare === '') return [];
  const labels = bare.split('.');
  let octets = 1;
  for (const l of labels) {
    if (l.length === 0 || l.length > 63) throw new RangeError(`bad label in name ${JSON.stringify(name)}`);
    octets += l.length + 1;
  }
  // Names are written one byte per character, so anything outside ASCII would be silently mangled.
  if (octets > 255 || /[^\x21-\x7e]/.test(bare)) throw new RangeError(`bad name ${JSON.stringify(name)}`);
  return labels;
}

function checkInt(v: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} out of range: ${v}`);
  return v;
}

function writeAddress(w: WireWriter, address: string, family: 4 | 16, type: string): void {
  // parseIp gives pure bytes, so an IPv4-tail AAAA (::ffff:1.2.3.4) is encoded correctly.
  const b = parseIp(address);
  if (!b || b.length !== family) throw new RangeError(`bad ${type} address ${JSON.stringify(address)}`);
  w.bytes(b);
}

function writeTxt(w: WireWriter, data: readonly string[]): void {
  const strings = data.length === 0 ? [''] : data;
  for (const s of strings) {
    const b = Buffer.from(s, 'utf8');
    if (b.length === 0) { w.u8(0); continue; }
    // A character-string holds at most 255 octets; longer text is split, not wrapped.
    for (let i = 0; i < b.length; i += 255) {
      const chunk = b.subarray(i, Math.min(i + 255, b.length));
      w.u8(chunk.length);
      w.bytes(chunk);
    }
  }
}

function writeRr(w: WireWriter, rr: Rr): void {
  w.name(rr.name);
  w.u16(RrType[rr.type]);
  w.u16(DnsClass.IN);
  w.u32(checkInt(rr.ttl, MAX_TTL, 'TTL'));
  const rdlenAt = w.len;
  w.u16(0);
  switch (rr.type) {
    case 'A': writeAddress(w, rr.address, 4, 'A'); break;
    case 'AAAA': writeAddress(w, rr.address, 16, 'AAAA'); break;
    case 'CNAME':
    case 'NS':
    case 'PTR': w.name(rr.target); break;
    case 'SRV':
      w.u16(checkInt(rr.priority, 0xffff, 'SRV priority'));
      w.u16(checkInt(rr.weight, 0xffff, 'SRV weight'));
      w.u16(checkInt(rr.port, 0xffff, 'SRV port'));
      // RFC 2782: the target is never compressed (as miekg/Consul do); later names may still point into it.
      w.name(rr.target, false);
      break;
    case 'TXT': writeTxt(w, rr.data); break;
    case 'SOA':
      w.name(rr.mname);
      w.name(rr.rname);
      w.u32(checkInt(rr.serial, 0xffffffff, 'SOA serial'));
      w.u32(checkInt(rr.refresh, 0xffffffff, 'SOA refresh'));
      w.u32(checkInt(rr.retry, 0xffffffff, 'SOA retry'));
      w.u32(checkInt(rr.expire, 0xffffffff, 'SOA expire'));
      w.u32(checkInt(rr.minimum, MAX_TTL, 'SOA minimum'));
      break;
  }
  w.patch16(rdlenAt, w.len - rdlenAt - 2);
}

/**
 * A complete reply: header from `h` (RD and CD echoed from the query), the query's question bytes
 * verbatim, the sections, and an OPT when `opt` is given. Throws RangeError on a record that cannot
 * be encoded: the resolver leaves such records out, so this is the last line of defence.
 */
export function buildMessage(query: Query, h: MessageHeader, s: Sections, opt: OptSpec | undefined, compress: boolean): Buffer {
  const raw = query.raw;
  const w = new WireWriter(512, compress);
  w.u16(query.id);
  w.u8(0x80 | (h.aa ? 0x04 : 0) | (h.tc ? 0x02 : 0) | (query.rd ? 0x01 : 0));
  // CD is copied as miekg's SetReply does (RFC 4035 §3.2.2); AD is never claimed: nothing here is validated.
  w.u8((h.ra ? 0x80 : 0) | (query.cd ? 0x10 : 0) | (h.rcode & 0x0f));
  w.u16(1);
  w.u16(s.answer.length);
  w.u16(s.authority.length);
  w.u16(s.additional.length + (opt ? 1 : 0));
  w.bytes(raw.subarray(12, query.questionEnd));
  w.seed(query.name, 12);
  for (const rr of s.answer) writeRr(w, rr);
  for (const rr of s.authority) writeRr(w, rr);
  for (const rr of s.additional) writeRr(w, rr);
  if (opt) {
    w.u8(0);
    w.u16(RrType.OPT);
    w.u16(opt.udpSize);
    w.u8((h.rcode >> 4) & 0xff);
    w.u8(0);
    w.u16(opt.do ? 0x8000 : 0);
    w.u16(0);
  }
  return w.done();
}
