// Builders for the Answer shapes every lookup ends in (positive, NXDOMAIN, NODATA, bare rcodes).
import { Rcode, syncAdditional } from '../dns/records.js';
import type { Answer, Rr, SoaRecord } from '../dns/records.js';

interface Sections {
  readonly rcode?: number;
  readonly answer?: readonly Rr[];
  readonly authority?: readonly Rr[];
  readonly additional?: readonly Rr[];
  readonly tc?: boolean;
}

/** Every authoritative answer goes through here, so Additional never holds duplicates or orphans. */
export function buildAnswer(s: Sections): Answer {
  const answer = s.answer ?? [];
  return {
    rcode: s.rcode ?? Rcode.NOERROR,
    aa: true,
    answer,
    authority: s.authority ?? [],
    additional: syncAdditional(answer, s.additional ?? []),
    ...(s.tc ? { tc: true } : {}),
  };
}

export function buildNxdomain(soa: SoaRecord): Answer {
  return buildAnswer({ rcode: Rcode.NXDOMAIN, authority: [soa] });
}

/** NOERROR with no answer; the SOA in Authority gives resolvers the negative TTL. */
export function buildNodata(soa: SoaRecord, additional: readonly Rr[] = []): Answer {
  return buildAnswer({ authority: [soa], additional });
}

/** NOERROR, nothing at all: Consul's shape for node lookups of other qtypes and bad `.addr` lengths. */
export function buildEmpty(additional: readonly Rr[] = []): Answer {
  return buildAnswer({ additional });
}

export function buildRcodeOnly(rcode: number, aa: boolean): Answer {
  return { rcode, aa, answer: [], authority: [], additional: [] };
}

