// Size fitting of a reply (Consul's trimUDPResponse, de-duplicated): pure apart from the size callback.
import { syncAdditional } from './records.js';
import type { Sections } from './encode.js';

export interface Fitted {
  /** One of the objects passed to `size`, or the input itself, so the caller can reuse its encoding. */
  readonly sections: Sections;
  /** Whether Answer or Authority lost records (Additional-only cuts do not count: RFC 2181 §9). */
  readonly cut: boolean;
}

const EMPTY: readonly never[] = [];

/**
 * The largest reply that fits in `limit` bytes: first the Authority section goes, then answers
 * from the end (binary search, Additional re-synced to the kept answers each time), then, if not
 * even one answer fits with its Additional, answers without Additional; at worst no records.
 * A reply that fits is returned untouched.
 */
export function fitSections(s: Sections, limit: number, size: (s: Sections) => number): Fitted {
  if (size(s) <= limit) return { sections: s, cut: false };
  const lostAuthority = s.authority.length > 0;

  const all: Sections = { answer: s.answer, authority: EMPTY, additional: syncAdditional(s.answer, s.additional) };
  if (size(all) <= limit) return { sections: all, cut: lostAuthority };

  const withExtra = (n: number): Sections => {
    const answer = s.answer.slice(0, n);
    return { answer, authority: EMPTY, additional: syncAdditional(answer, s.additional) };
  };
  const best = largestFitting(s.answer.length - 1, withExtra, limit, size);
  if (best) return { sections: best, cut: true };

  // Not even one answer fits with its Additional (or Additional is not tied to the answers).
  const bare = (n: number): Sections => ({ answer: s.answer.slice(0, n), authority: EMPTY, additional: EMPTY });
  const fallback = largestFitting(s.answer.length, bare, limit, size);
  if (fallback) {
    const keptAll = fallback.answer.length === s.answer.length;
    return { sections: fallback, cut: !keptAll || lostAuthority };
  }
  return { sections: bare(0), cut: s.answer.length > 0 || lostAuthority };
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
