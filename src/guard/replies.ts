// The guard's own replies: RFC 8482's minimal answer to ANY, and the empty TC=1 "slip" of rate limiting.
import { encodeRcode, type EncodeOptions } from '../dns/codec.js';
import { Rcode, type Query } from '../dns/records.js';

const HINFO = 13;
const CLASS_IN = 1;
/** HINFO RDATA: CPU "RFC8482", OS "" (RFC 8482 §4.2). */
const HINFO_RDATA = Buffer.from([7, ...Buffer.from('RFC8482', 'latin1'), 0]);

/**
 * NOERROR with one synthesized HINFO for the name asked, instead of forwarding an ANY (RFC 8482 §4.2): the
 * reply is a few bytes whatever the name holds, so ANY over UDP is no amplifier. Not authoritative (AA=0):
 * the name is not ours. The owner points at the question (or repeats it when compression is off).
 */
export function buildMinimalAnyReply(query: Query, opts: EncodeOptions, ttl: number): Buffer {
  const base = encodeRcode(query, Rcode.NOERROR, opts);
  // The reply echoes the question verbatim after the 12-byte header, so it ends where the query's does.
  const at = query.questionEnd;
  const owner = opts.compress ? Buffer.from([0xc0, 0x0c]) : query.raw.subarray(12, at - 4);
  const fixed = Buffer.allocUnsafe(10);
  fixed.writeUInt16BE(HINFO, 0);
  fixed.writeUInt16BE(CLASS_IN, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(HINFO_RDATA.length, 8);
  const out = Buffer.concat([base.subarray(0, at), owner, fixed, HINFO_RDATA, base.subarray(at)]);
  out.writeUInt16BE(1, 6);
  return out;
}

/**
 * What a rate-limited client gets instead of its answer every slip-th time: header and question (and the
 * OPT, so EDNS stays negotiated), no records, TC=1. A real client retries over TCP, which is not limited;
 * a spoofed victim gets a reply no bigger than the query.
 */
export function buildSlipReply(query: Query, opts: EncodeOptions): Buffer {
  const out = encodeRcode(query, Rcode.NOERROR, opts);
  out[2] = (out[2] as number) | 0x02;
  return out;
}
