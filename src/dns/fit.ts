// Size fitting of a reply (Consul's trimUDPResponse, optional records first): pure apart from the size callback.
import { ownedAdditional, type Rr } from './records.js';
import type { Sections } from './encode.js';

export interface Fitted {
  /** One of the objects passed to `size`, or the input itself, so the caller can reuse its encoding. */
  readonly sections: Sections;
  /** Whether Answer or Authority lost records (Additional-only cuts do not count: RFC 2181 §9). */
  readonly cut: boolean;
}

const EMPTY: readonly never[] = [];

/** Addresses and alias chains of the answer's targets: what a client would otherwise have to ask for. */
function isGlue(rr: Rr): boolean {
  return rr.type === 'A' || rr.type === 'AAAA' || rr.type === 'CNAME';
}

/**
 * The largest reply that fits in `limit` bytes, giving up the least useful records first:
 * (a) optional Additional — records no SRV/NS/CNAME target owns, then the targets' node-meta TXT —
 * which alone never sets TC; (b) the Authority of a positive answer (a negative answer's SOA is the
 * answer and stays); (c) answers from the end (binary search), Additional glue re-synced to the
 * kept answers each time, then answers without glue; (d) no records at all.
 * A reply that fits is returned untouched.
 */
export function fitSections(s: Sections, limit: number, size: (s: Sections) => number): Fitted {
  if (size(s) <= limit) return { sections: s, cut: false };

  const owned = ownedAdditional(s.answer, s.additional);
  const glue = owned.filter(isGlue);
  if (owned.length < s.additional.length) {
    const c: Sections = { answer: s.answer, authority: s.authority, additional: owned };
    if (size(c) <= limit) return { sections: c, cut: false };
  }
  if (glue.length < owned.length) {
    const c: Sections = { answer: s.answer, authority: s.authority, additional: glue };
    if (size(c) <= limit) return { sections: c, cut: false };
  }
  const empty: Sections = { answer: EMPTY, authority: EMPTY, additional: EMPTY };
  // Without answers, the Authority SOA is what tells the client NXDOMAIN/NODATA and for how long.
  if (s.answer.length === 0) return { sections: empty, cut: true };

  const lostAuthority = s.authority.length > 0;
  const all: Sections = { answer: s.answer, authority: EMPTY, additional: glue };
  if (lostAuthority && size(all) <= limit) return { sections: all, cut: true };

  const withGlue = (n: number): Sections => {
    const answer = s.answer.slice(0, n);
    return { answer, authority: EMPTY, additional: ownedAdditional(answer, glue) };
  };
  const best = largestFitting(s.answer.length - 1, withGlue, limit, size);
  if (best) return { sections: best, cut: true };

  // Not even one answer fits with its glue: answers alone still let the client go on.
  const bare = (n: number): Sections => ({ answer: s.answer.slice(0, n), authority: EMPTY, additional: EMPTY });
  const fallback = largestFitting(s.answer.length, bare, limit, size);
  if (fallback) return { sections: fallback, cut: lostAuthority || fallback.answer.length < s.answer.length };
  return { sections: empty, cut: true };
}

/**
 * Binary search for the largest n in [1, max] whose candidate fits; sizes grow with n because
 * each candidate's records are a superset of the previous one's. O(log n) encodings.
 */
function largestFitting(max: number, candidate: (n: number) => Sections, limit: number,
  size: (s: Sections) => number): Sections | undefined {
  let lo = 0;
  let hi = max;
  let found: Sections | undefined;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const c = candidate(mid);
    if (size(c) <= limit) { lo = mid; found = c; } else hi = mid - 1;
  }
  return found;
}
