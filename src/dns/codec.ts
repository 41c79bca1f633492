// The wire codec's public face: decode a query, encode an answer or a bare rcode, sized to fit the client.
import { buildMessage, type MessageHeader, type OptSpec, type Sections } from './encode.js';
import { fitSections } from './fit.js';
import type { Answer, Query } from './records.js';

export { decodeQuery, MAX_QUERY_SIZE, type DecodeOptions, type DecodeOutcome } from './decode.js';

export interface EncodeOptions {
  /** Recursion available (recursors configured). */
  readonly ra: boolean;
  /** !dns_config.disable_compression */
  readonly compress: boolean;
  /** Ours, default 1232; advertised in our OPT and the ceiling of every UDP reply. */
  readonly udpPayloadSize: number;
}

/** The largest UDP datagram payload over IPv4; a bigger reply fails with EMSGSIZE. */
const MAX_UDP = 65507;
const MAX_TCP = 65535;

function ourUdpSize(opts: EncodeOptions): number {
  return Math.min(Math.max(512, Math.trunc(opts.udpPayloadSize) || 512), MAX_UDP);
}

/** Bytes a reply to `query` may take: UDP min(client's EDNS size or 512, ours); TCP 65535. */
export function maxReplySize(query: Query, opts: EncodeOptions): number {
  if (query.proto === 'tcp') return MAX_TCP;
  return Math.min(query.edns ? query.edns.udpSize : 512, ourUdpSize(opts));
}

function optFor(query: Query, opts: EncodeOptions): OptSpec | undefined {
  return query.edns ? { udpSize: ourUdpSize(opts), do: query.edns.do } : undefined;
}

/**
 * The reply for an in-zone answer. Over the limit, records are cut (fit.ts) and TC is set on UDP
 * when Answer or Authority lost records; `answer.tc` forces TC. Throws RangeError on a record
 * that cannot be encoded (the caller answers SERVFAIL).
 */
export function encodeAnswer(query: Query, answer: Answer, opts: EncodeOptions): Buffer {
  const header: MessageHeader = { aa: answer.aa, tc: false, ra: opts.ra, rcode: answer.rcode };
  const opt = optFor(query, opts);
  const encoded = new Map<Sections, Buffer>();
  const size = (s: Sections): number => {
    const b = buildMessage(query, header, s, opt, opts.compress);
    encoded.set(s, b);
    return b.length;
  };
  const fitted = fitSections(answer, maxReplySize(query, opts), size);
  const out = encoded.get(fitted.sections) ?? buildMessage(query, header, fitted.sections, opt, opts.compress);
  if (answer.tc === true || (fitted.cut && query.proto === 'udp')) out[2] = (out[2] as number) | 0x02;
  return out;
}

/** Header + question + OPT (when the query had one), no records. */
export function encodeRcode(query: Query, rcode: number, opts: EncodeOptions & { aa?: boolean }): Buffer {
  const header: MessageHeader = { aa: opts.aa === true, tc: false, ra: opts.ra, rcode };
  return buildMessage(query, header, { answer: [], authority: [], additional: [] }, optFor(query, opts), opts.compress);
}
