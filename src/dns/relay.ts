// Raw wire walking and rewriting of relayed upstream replies: records pass through intact under our header and OPT.
import type { Edns } from './records.js';

/** A domain name as its labels' raw bytes, in the case they arrived in. */
export type WireName = readonly Buffer[];

export type RdataPart =
  | { readonly kind: 'bytes'; readonly bytes: Buffer }
  | { readonly kind: 'name'; readonly name: WireName };

export interface WireRecord {
  readonly owner: WireName;
  readonly type: number;
  readonly klass: number;
  /** Raw unsigned 32 bits; relayed unchanged. */
  readonly ttl: number;
  /** Names decompressed for the types that may carry pointers; everything else one verbatim part. */
  readonly rdata: readonly RdataPart[];
}

export interface WireQuestion {
  readonly name: WireName;
  readonly type: number;
  readonly klass: number;
}

export interface WireMessage {
  readonly id: number;
  /** Header bytes 2–3 as one 16-bit value. */
  readonly flags: number;
  readonly questions: readonly WireQuestion[];
  readonly answer: readonly WireRecord[];
  readonly authority: readonly WireRecord[];
  readonly additional: readonly WireRecord[];
}

const OPT = 41;
const FLAG = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, AD: 0x0020, CD: 0x0010 } as const;
const MAX_POINTER_HOPS = 64;
const MAX_NAME_WIRE = 255;
export const OPT_SIZE = 11;

type Field = 'name' | number;
/**
 * RDATA layouts whose names we decompress: the RFC 1035 types (RFC 3597 §4: the only ones that may be
 * compressed), plus SRV, RP and AFSDB because some servers compress those too.
 */
const LAYOUTS: ReadonlyMap<number, readonly Field[]> = new Map<number, readonly Field[]>([
  [2, ['name']], [3, ['name']], [4, ['name']], [5, ['name']], [6, ['name', 'name', 20]],
  [7, ['name']], [8, ['name']], [9, ['name']], [12, ['name']], [14, ['name', 'name']], [15, [2, 'name']],
  [17, ['name', 'name']], [18, [2, 'name']], [33, [6, 'name']],
]);
/** Types whose RDATA names we may write compressed (RFC 3597 §4); others are written in full. */
const COMPRESSIBLE = new Set([2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15]);

interface Cursor<T> { readonly value: T; readonly next: number }

/**
 * Reads a possibly compressed name at `start`; its in-place bytes must end by `end`. Pointer loops,
 * out-of-bounds pointers, reserved label types and names over 255 bytes fail (undefined).
 */
function readName(buf: Buffer, start: number, end: number): Cursor<Buffer[]> | undefined {
  const labels: Buffer[] = [];
  let pos = start;
  let next = -1;
  let hops = 0;
  let wire = 1;
  for (;;) {
    const len = buf[pos];
    if (len === undefined) return undefined;
    if ((len & 0xc0) === 0xc0) {
      const low = buf[pos + 1];
      if (low === undefined || ++hops > MAX_POINTER_HOPS) return undefined;
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | low;
      if (pos < 12) return undefined;
      continue;
    }
    if (len & 0xc0) return undefined;
    if (len === 0) break;
    wire += len + 1;
    if (wire > MAX_NAME_WIRE || pos + 1 + len > buf.length) return undefined;
    labels.push(buf.subarray(pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  if (next < 0) next = pos + 1;
  return next <= end ? { value: labels, next } : undefined;
}

function readRdata(buf: Buffer, type: number, start: number, end: number): RdataPart[] | undefined {
  const layout = LAYOUTS.get(type);
  if (!layout) return [{ kind: 'bytes', bytes: buf.subarray(start, end) }];
  const parts: RdataPart[] = [];
  let pos = start;
  for (const field of layout) {
    if (field === 'name') {
      const name = readName(buf, pos, end);
      if (!name) return undefined;
      parts.push({ kind: 'name', name: name.value });
      pos = name.next;
    } else {
      if (pos + field > end) return undefined;
      parts.push({ kind: 'bytes', bytes: buf.subarray(pos, pos + field) });
      pos += field;
    }
  }
  return pos === end ? parts : undefined;
}

function readRecord(buf: Buffer, start: number): Cursor<WireRecord> | undefined {
  const owner = readName(buf, start, buf.length);
  if (!owner) return undefined;
  const p = owner.next;
  if (p + 10 > buf.length) return undefined;
  const rdStart = p + 10;
  const rdEnd = rdStart + buf.readUInt16BE(p + 8);
  if (rdEnd > buf.length) return undefined;
  const type = buf.readUInt16BE(p);
  const rdata = readRdata(buf, type, rdStart, rdEnd);
  if (!rdata) return undefined;
  const record = { owner: owner.value, type, klass: buf.readUInt16BE(p + 2), ttl: buf.readUInt32BE(p + 4), rdata };
  return { value: record, next: rdEnd };
}

/** Walks a whole message; undefined when any part is malformed (a reply to be ignored, not relayed). */
export function parseWireMessage(buf: Buffer): WireMessage | undefined {
  if (buf.length < 12) return undefined;
  let pos = 12;
  const questions: WireQuestion[] = [];
  for (let i = buf.readUInt16BE(4); i > 0; i--) {
    const name = readName(buf, pos, buf.length);
    if (!name || name.next + 4 > buf.length) return undefined;
    questions.push({ name: name.value, type: buf.readUInt16BE(name.next), klass: buf.readUInt16BE(name.next + 2) });
    pos = name.next + 4;
  }
  const sections: WireRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    const section = sections[s] ?? [];
    for (let i = buf.readUInt16BE(6 + 2 * s); i > 0; i--) {
      const rr = readRecord(buf, pos);
      if (!rr) return undefined;
      section.push(rr.value);
      pos = rr.next;
    }
  }
  const [answer = [], authority = [], additional = []] = sections;
  return { id: buf.readUInt16BE(0), flags: buf.readUInt16BE(2), questions, answer, authority, additional };
}

/** The question of a client query, raw[12, questionEnd); undefined if it is not one plain question. */
export function parseQuestion(bytes: Buffer): WireQuestion | undefined {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(1, 4);
  const msg = parseWireMessage(Buffer.concat([header, bytes]));
  return msg?.questions[0];
}

/** ASCII-only lower-casing of one byte (DNS names compare case-insensitively in ASCII only). */
export function lowerByte(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

function sameLabel(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (lowerByte(a[i] ?? 0) !== lowerByte(b[i] ?? 0)) return false;
  return true;
}

/** Case-insensitive (ASCII) name equality, as RFC 4343 asks. */
export function sameName(a: WireName, b: WireName): boolean {
  return a.length === b.length && a.every((label, i) => sameLabel(label, b[i] ?? Buffer.alloc(0)));
}

export function sameQuestion(a: WireQuestion, b: WireQuestion): boolean {
  return a.type === b.type && a.klass === b.klass && sameName(a.name, b.name);
}

/** Labels of a dotted FQDN ("consul." → ["consul"]); the root is []. */
export function toWireName(fqdn: string): WireName {
  return fqdn.split('.').filter((l) => l.length > 0).map((l) => Buffer.from(l, 'latin1'));
}

/** Whether `name` is `zone` or below it (case-insensitive). */
export function isInZone(name: WireName, zone: WireName): boolean {
  if (zone.length > name.length) return false;
  const offset = name.length - zone.length;
  return zone.every((label, i) => sameLabel(label, name[offset + i] ?? Buffer.alloc(0)));
}

/** The full rcode: the header's 4 bits plus the upper 8 bits from the first OPT's TTL. */
export function fullRcode(msg: WireMessage): number {
  return (extendedRcode(msg) << 4) | (msg.flags & 0x0f);
}

function extendedRcode(msg: WireMessage): number {
  const opt = msg.additional.find((rr) => rr.type === OPT);
  return opt ? opt.ttl >>> 24 : 0;
}

export function isTruncated(msg: WireMessage): boolean {
  return (msg.flags & FLAG.TC) !== 0;
}

/** Writes an OPT RR without options at `offset`; returns the offset after it. */
export function writeOpt(buf: Buffer, offset: number, udpSize: number, dnssecOk: boolean, extRcode = 0): number {
  buf[offset] = 0;
  buf.writeUInt16BE(OPT, offset + 1);
  buf.writeUInt16BE(udpSize, offset + 3);
  buf.writeUInt32BE(((extRcode & 0xff) << 24 | (dnssecOk ? 0x8000 : 0)) >>> 0, offset + 5);
  buf.writeUInt16BE(0, offset + 9);
  return offset + OPT_SIZE;
}

let scratch = Buffer.allocUnsafeSlow(65536 + 512);

/** A bounded output buffer with name compression; writes past `cap` set `overflow` instead. */
class Writer {
  pos = 0;
  overflow = false;
  readonly names = new Map<string, number>();
  constructor(readonly buf: Buffer, public cap: number) {}

  private room(n: number): boolean {
    if (this.overflow || this.pos + n > this.cap) this.overflow = true;
    return !this.overflow;
  }
  u16(v: number): void {
    if (this.room(2)) { this.buf.writeUInt16BE(v, this.pos); this.pos += 2; }
  }
  u32(v: number): void {
    if (this.room(4)) { this.buf.writeUInt32BE(v >>> 0, this.pos); this.pos += 4; }
  }
  bytes(b: Buffer): void {
    if (this.room(b.length)) { b.copy(this.buf, this.pos); this.pos += b.length; }
  }
  /** Suffixes are keyed by exact bytes, so a pointer never changes the case a name arrived in. */
  name(labels: WireName, compress: boolean): void {
    const keys: string[] = [];
    let key = '';
    for (let i = labels.length - 1; i >= 0; i--) {
      const label = labels[i] ?? Buffer.alloc(0);
      key = String.fromCharCode(label.length) + label.toString('latin1') + key;
      keys[i] = key;
    }
    for (let i = 0; i < labels.length; i++) {
      const suffix = keys[i] ?? '';
      const at = this.names.get(suffix);
      if (compress && at !== undefined) { this.u16(0xc000 | at); return; }
      if (at === undefined && this.pos < 0x4000 && !this.overflow) this.names.set(suffix, this.pos);
      const label = labels[i] ?? Buffer.alloc(0);
      if (this.room(1 + label.length)) { this.buf[this.pos++] = label.length; this.bytes(label); }
    }
    if (this.room(1)) this.buf[this.pos++] = 0;
  }
  /** Undoes a record that did not fit, including the names it offered for compression. */
  rollback(to: number): void {
    this.pos = to;
    this.overflow = false;
    for (const [k, at] of this.names) if (at >= to) this.names.delete(k);
  }
}

function writeRecord(w: Writer, rr: WireRecord): boolean {
  const start = w.pos;
  w.name(rr.owner, true);
  w.u16(rr.type);
  w.u16(rr.klass);
  w.u32(rr.ttl);
  const rdlenAt = w.pos;
  w.u16(0);
  const compress = COMPRESSIBLE.has(rr.type);
  for (const part of rr.rdata) {
    if (part.kind === 'bytes') w.bytes(part.bytes);
    else w.name(part.name, compress);
  }
  if (w.overflow) { w.rollback(start); return false; }
  w.buf.writeUInt16BE(w.pos - rdlenAt - 2, rdlenAt);
  return true;
}

export interface RelayClient {
  readonly id: number;
  readonly rd: boolean;
  readonly cd: boolean;
  /** The client's question bytes, raw[12, questionEnd), echoed in its original case. */
  readonly question: Buffer;
  readonly edns?: Edns;
}

export interface RelayOptions {
  /** Zones we are authoritative for; upstream records owned inside them are never passed on. */
  readonly zones: readonly WireName[];
  /** Our advertised EDNS UDP payload size. */
  readonly udpPayloadSize: number;
  /** The most bytes the client can take (see replySizeLimit). */
  readonly maxSize: number;
}

/** UDP: the client's EDNS size capped at ours, 512 without EDNS; TCP: 65535. */
export function replySizeLimit(proto: 'udp' | 'tcp', edns: Edns | undefined, udpPayloadSize: number): number {
  if (proto === 'tcp') return 65535;
  return edns ? Math.max(512, Math.min(edns.udpSize, udpPayloadSize)) : 512;
}

/**
 * The bytes for the client: its ID, RD, CD and question; the upstream's AA, AD, RA, rcode and records
 * (minus OPT and in-zone owners); our OPT iff the client sent EDNS. Records that do not fit are dropped
 * whole, from the first that does not fit onwards, and TC is set.
 */
export function buildRelayedReply(msg: WireMessage, client: RelayClient, opts: RelayOptions): Buffer {
  const optSize = client.edns ? OPT_SIZE : 0;
  const limit = Math.max(opts.maxSize, 12 + client.question.length + optSize);
  // The writer fills every byte below `pos`, so a reused scratch serves (a fresh zeroed 64 KiB per relayed
  // reply was most of the forward path's memory traffic); only the bytes written are copied out.
  if (scratch.length < limit) scratch = Buffer.allocUnsafeSlow(limit);
  const w = new Writer(scratch, limit - optSize);
  w.u16(client.id);
  w.u16(0);
  w.u16(1);
  w.u16(0); w.u16(0); w.u16(0);
  const q = parseQuestion(client.question);
  if (q) w.name(q.name, false);
  else w.bytes(client.question.subarray(0, client.question.length - 4));
  w.bytes(client.question.subarray(client.question.length - 4));

  let truncated = false;
  const sections = [msg.answer, msg.authority, msg.additional];
  for (let s = 0; s < 3 && !truncated; s++) {
    let count = 0;
    for (const rr of sections[s] ?? []) {
      if (rr.type === OPT || opts.zones.some((z) => isInZone(rr.owner, z))) continue;
      if (!writeRecord(w, rr)) { truncated = true; break; }
      count++;
    }
    w.buf.writeUInt16BE(count, 6 + 2 * s);
  }
  if (client.edns) {
    w.cap = limit;
    w.pos = writeOpt(w.buf, w.pos, opts.udpPayloadSize, client.edns.do, extendedRcode(msg));
    w.buf.writeUInt16BE(w.buf.readUInt16BE(10) + 1, 10);
  }
  const up = msg.flags;
  const flags = FLAG.QR | (up & (FLAG.AA | FLAG.RA | FLAG.AD | 0x000f))
    | (client.rd ? FLAG.RD : 0) | (client.cd ? FLAG.CD : 0)
    | (truncated || isTruncated(msg) ? FLAG.TC : 0);
  w.buf.writeUInt16BE(flags, 2);
  return Buffer.from(w.buf.subarray(0, w.pos));
}

/** The offset just past a (possibly compressed) name at `pos`, without following pointers; -1 if cut short. */
function skipName(buf: Buffer, pos: number): number {
  for (;;) {
    const len = buf[pos];
    if (len === undefined) return -1;
    if ((len & 0xc0) === 0xc0) return pos + 2 <= buf.length ? pos + 2 : -1;
    if (len === 0) return pos + 1;
    pos += 1 + len;
  }
}

/**
 * Where the TTL field of every record except OPT sits in `buf`, so a cached reply's TTLs can be counted
 * down in place; undefined when the message is cut short.
 */
export function recordTtlOffsets(buf: Buffer): number[] | undefined {
  if (buf.length < 12) return undefined;
  let pos = 12;
  for (let i = buf.readUInt16BE(4); i > 0; i--) {
    pos = skipName(buf, pos);
    if (pos < 0 || pos + 4 > buf.length) return undefined;
    pos += 4;
  }
  const offsets: number[] = [];
  const records = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  for (let i = 0; i < records; i++) {
    pos = skipName(buf, pos);
    if (pos < 0 || pos + 10 > buf.length) return undefined;
    if (buf.readUInt16BE(pos) !== OPT) offsets.push(pos + 4);
    pos += 10 + buf.readUInt16BE(pos + 8);
    if (pos > buf.length) return undefined;
  }
  return offsets;
}
