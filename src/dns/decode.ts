// Query decoding: cheap header and question checks on the raw bytes first, then dns2 decodes the OPT.
import dns2 from 'dns2';
import { Rcode, RrType, type Edns, type Query, type Transport } from './records.js';

export type DecodeOutcome =
  | { kind: 'query'; query: Query }
  /** No reply at all: a reply to garbage would make us an amplifier or a loop. */
  | { kind: 'drop'; reason: string }
  | { kind: 'error'; rcode: number; reply: Buffer; reason: string };

export interface DecodeOptions {
  /** Our advertised UDP payload size, put in the OPT of a BADVERS reply. */
  readonly udpPayloadSize: number;
}

/** A real query is tiny; anything longer is either garbage or an attempt at CPU amplification. */
export const MAX_QUERY_SIZE = 4096;

const HEADER_SIZE = 12;
const MAX_NAME_OCTETS = 255;
const MAX_LABEL_OCTETS = 63;

interface ParsedQuestion {
  readonly name: string;
  /** Whether the name has an ASCII capital, i.e. differs from its lower-case form. */
  readonly upper: boolean;
  readonly qtype: number;
  readonly qclass: number;
  readonly end: number;
}

/** The dotted name is assembled here and read out with one string conversion (no per-label strings). */
const nameScratch = Buffer.alloc(MAX_NAME_OCTETS + 1);

/** The question at offset 12, or a reason it is unusable. Only plain, escape-free labels are accepted. */
export function parseQuestion(raw: Buffer): ParsedQuestion | string {
  let off = HEADER_SIZE;
  let octets = 1;
  let out = 0;
  let upper = false;
  for (;;) {
    if (off >= raw.length) return 'question truncated';
    const len = raw[off] as number;
    if (len === 0) { off += 1; break; }
    if ((len & 0xc0) === 0xc0) return 'compression pointer in question';
    if (len & 0xc0) return 'reserved label type';
    if (len > MAX_LABEL_OCTETS) return 'label too long';
    octets += len + 1;
    if (octets > MAX_NAME_OCTETS) return 'name too long';
    if (off + 1 + len > raw.length) return 'question truncated';
    for (let i = off + 1; i <= off + len; i++) {
      const c = raw[i] as number;
      // A '.' inside a label, or a byte that needs escaping, makes the text form ambiguous.
      if (c < 0x21 || c > 0x7e || c === 0x2e) return 'unsupported byte in label';
      if (c >= 0x41 && c <= 0x5a) upper = true;
      nameScratch[out++] = c;
    }
    nameScratch[out++] = 0x2e;
    off += 1 + len;
  }
  if (off + 4 > raw.length) return 'question truncated';
  return {
    name: out === 0 ? '.' : nameScratch.toString('latin1', 0, out),
    upper,
    qtype: raw.readUInt16BE(off),
    qclass: raw.readUInt16BE(off + 2),
    end: off + 4,
  };
}

interface ParsedOpt {
  readonly edns: Edns;
  readonly end: number;
}

/**
 * The single additional record, which must be an OPT owned by the root. A structural walk bounds the
 * work first (dns2 decodes bit by bit, dependencies.md §1.5); dns2 then decodes the record itself.
 */
function parseOpt(raw: Buffer, off: number): ParsedOpt | string {
  if (off + 11 > raw.length) return 'additional record truncated';
  if (raw[off] !== 0) return 'additional record is not an OPT owned by the root';
  if (raw.readUInt16BE(off + 1) !== RrType.OPT) return 'additional record is not an OPT';
  const rdlen = raw.readUInt16BE(off + 9);
  const end = off + 11 + rdlen;
  if (end > raw.length) return 'OPT RDLENGTH past the end';
  for (let p = off + 11; p < end; ) {
    if (p + 4 > end) return 'OPT option header truncated';
    p += 4 + raw.readUInt16BE(p + 2);
    if (p > end) return 'OPT option length past RDATA';
  }
  let packet: dns2.Packet;
  try {
    packet = dns2.Packet.parse(raw);
  } catch {
    return 'undecodable message';
  }
  const first = packet.errors[0];
  if (first) return `undecodable OPT: ${first.message}`;
  const opt = packet.additionals[0] as (dns2.Packet.Resource & { version?: number; doFlag?: boolean }) | undefined;
  if (!opt || opt.type !== RrType.OPT) return 'additional record is not an OPT';
  return { edns: { udpSize: Math.max(512, opt.class), version: opt.version ?? 0, do: opt.doFlag === true }, end };
}

function failure(raw: Buffer, rcode: number, reason: string, questionEnd: number | undefined): DecodeOutcome {
  return { kind: 'error', rcode, reason, reply: buildErrorReply(raw, rcode, questionEnd) };
}

/**
 * A reply built straight from the query bytes: same ID and opcode, QR=1, RD and CD echoed, the
 * question copied verbatim when given, and an OPT (for BADVERS) when asked for.
 */
function buildErrorReply(raw: Buffer, rcode: number, questionEnd: number | undefined, opt?: { udpSize: number; do: boolean }): Buffer {
  const qlen = questionEnd === undefined ? 0 : questionEnd - HEADER_SIZE;
  const out = Buffer.alloc(HEADER_SIZE + qlen + (opt ? 11 : 0));
  raw.copy(out, 0, 0, 2);
  out[2] = 0x80 | ((raw[2] as number) & 0x79);
  // CD is echoed like RD (RFC 4035 §3.2.2); the other bits of byte 3 are ours to set.
  out[3] = ((raw[3] as number) & 0x10) | (rcode & 0x0f);
  out.writeUInt16BE(qlen > 0 ? 1 : 0, 4);
  out.writeUInt16BE(opt ? 1 : 0, 10);
  if (qlen > 0) raw.copy(out, HEADER_SIZE, HEADER_SIZE, questionEnd);
  if (opt) {
    const o = HEADER_SIZE + qlen;
    out.writeUInt16BE(RrType.OPT, o + 1);
    out.writeUInt16BE(opt.udpSize, o + 3);
    out[o + 5] = (rcode >> 4) & 0xff;
    out.writeUInt16BE(opt.do ? 0x8000 : 0, o + 7);
  }
  return out;
}

export function decodeQuery(
  raw: Buffer,
  proto: Transport,
  client: { address: string; port: number },
  opts: DecodeOptions,
): DecodeOutcome {
  if (raw.length < HEADER_SIZE) return { kind: 'drop', reason: 'shorter than a header' };
  const b2 = raw[2] as number;
  if (b2 & 0x80) return { kind: 'drop', reason: 'QR=1 (a response)' };
  const qdcount = raw.readUInt16BE(4);
  // Parsing one question is bounded (255 octets), so it is safe before the other checks.
  const q = qdcount === 1 ? parseQuestion(raw) : 'qdcount is not 1';
  const qEnd = typeof q === 'string' ? undefined : q.end;

  const opcode = (b2 >> 3) & 0x0f;
  if (opcode !== 0) return failure(raw, Rcode.NOTIMP, `opcode ${opcode} not implemented`, qEnd);
  if (qdcount !== 1) return failure(raw, Rcode.FORMERR, `qdcount ${qdcount}`, undefined);
  if (raw.readUInt16BE(6) !== 0 || raw.readUInt16BE(8) !== 0) return failure(raw, Rcode.FORMERR, 'answer or authority in a query', qEnd);
  const arcount = raw.readUInt16BE(10);
  if (arcount > 1) return failure(raw, Rcode.FORMERR, `arcount ${arcount}`, qEnd);
  if (raw.length > MAX_QUERY_SIZE) {
    return qEnd === undefined ? { kind: 'drop', reason: 'oversized garbage' } : failure(raw, Rcode.FORMERR, 'query too long', qEnd);
  }
  if (typeof q === 'string') return failure(raw, Rcode.FORMERR, q, undefined);

  let edns: Edns | undefined;
  let end = q.end;
  if (arcount === 1) {
    const opt = parseOpt(raw, q.end);
    if (typeof opt === 'string') return failure(raw, Rcode.FORMERR, opt, qEnd);
    if (opt.edns.version > 0) {
      return {
        kind: 'error', rcode: Rcode.BADVERS, reason: `EDNS version ${opt.edns.version}`,
        reply: buildErrorReply(raw, Rcode.BADVERS, q.end, { udpSize: opts.udpPayloadSize, do: opt.edns.do }),
      };
    }
    edns = opt.edns;
    end = opt.end;
  }
  if (end !== raw.length) return failure(raw, Rcode.FORMERR, 'trailing bytes after the last record', qEnd);

  const id = raw.readUInt16BE(0);
  const qname = q.upper ? q.name.toLowerCase() : q.name;
  const rd = (b2 & 0x01) !== 0;
  const cd = ((raw[3] as number) & 0x10) !== 0;
  // Two literals rather than a spread: a spread builds a temporary object on every query.
  const query: Query = edns
    ? { id, name: q.name, qname, qtype: q.qtype, qclass: q.qclass, rd, cd, proto, client, edns, raw, questionEnd: q.end }
    : { id, name: q.name, qname, qtype: q.qtype, qclass: q.qclass, rd, cd, proto, client, raw, questionEnd: q.end };
  return { kind: 'query', query };
}
