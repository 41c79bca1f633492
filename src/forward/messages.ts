// The messages the forwarder writes itself (the query sent upstream, the SERVFAIL for the client) and the test
// every upstream reply must pass.
import type { Query } from '../dns/records.js';
import { OPT_SIZE, parseWireMessage, sameQuestion, writeOpt, type WireMessage, type WireQuestion } from '../dns/relay.js';

const RD = 0x0100;
const CD = 0x0010;
const QR = 0x8000;
const RA = 0x0080;
const SERVFAIL = 2;

/**
 * header + the client's question bytes (its case) + our OPT. RD is always set (we ask a recursor to
 * recurse); CD and DO are the client's; no EDNS options, so client cookies and ECS stay with us.
 */
export function buildUpstreamQuery(query: Query, id: number, udpPayloadSize: number): Buffer {
  const question = query.raw.subarray(12, query.questionEnd);
  const out = Buffer.alloc(12 + question.length + OPT_SIZE);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(RD | (query.cd ? CD : 0), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 10);
  question.copy(out, 12);
  writeOpt(out, 12 + question.length, udpPayloadSize, query.edns?.do ?? false);
  return out;
}

/** SERVFAIL with RA=1: the client's ID, RD, CD and question, plus our OPT iff the client sent EDNS. */
export function buildServfail(query: Query, udpPayloadSize: number): Buffer {
  const question = query.raw.subarray(12, query.questionEnd);
  const out = Buffer.alloc(12 + question.length + (query.edns ? OPT_SIZE : 0));
  out.writeUInt16BE(query.id, 0);
  out.writeUInt16BE(QR | RA | SERVFAIL | (query.rd ? RD : 0) | (query.cd ? CD : 0), 2);
  out.writeUInt16BE(1, 4);
  question.copy(out, 12);
  if (query.edns) {
    out.writeUInt16BE(1, 10);
    writeOpt(out, 12 + question.length, udpPayloadSize, query.edns.do);
  }
  return out;
}

/**
 * A reply counts only if it answers exactly what we asked: QR, our ID, one question, the same question, and
 * the whole message well-formed. Anything else (a forgery, garbage, a cut-short datagram) is ignored and the
 * exchange keeps waiting for the real reply until its deadline.
 */
export function acceptFor(id: number, question: WireQuestion) {
  return (reply: Buffer): WireMessage | undefined => {
    if (reply.length < 12 || (reply[2] ?? 0) < 0x80 || reply.readUInt16BE(0) !== id) return undefined;
    if (reply.readUInt16BE(4) !== 1) return undefined;
    const msg = parseWireMessage(reply);
    const q = msg?.questions[0];
    return msg && q && sameQuestion(q, question) ? msg : undefined;
  };
}
