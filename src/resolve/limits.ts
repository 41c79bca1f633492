// Count limits for service answers (Consul's udp_answer_limit and TCP caps); byte-size fitting happens at the encoder.
import { RrType } from '../dns/records.js';
import type { DnsConfig } from '../config/types.js';
import type { Query } from '../dns/records.js';

/** Consul's hard cap on udp_answer_limit for a plain 512-byte UDP client. */
export const MAX_UDP_ANSWERS = 8;
export const MAX_TCP_SRV_ANSWERS = 1024;
export const MAX_TCP_ANSWERS = 4096;

export function maxAnswerCount(query: Query, dns: DnsConfig): number {
  if (query.proto === 'tcp') return query.qtype === RrType.SRV ? MAX_TCP_SRV_ANSWERS : MAX_TCP_ANSWERS;
  // A client that advertised more than 512 bytes gets every record, trimmed later by size only.
  if (query.edns !== undefined && query.edns.udpSize > 512) return Number.POSITIVE_INFINITY;
  return Math.max(0, Math.min(MAX_UDP_ANSWERS, dns.udpAnswerLimit));
}

