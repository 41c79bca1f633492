// Node meta as TXT records, each key/value encoded per RFC 1464 exactly as Consul does.
import type { TxtRecord } from '../dns/records.js';

/** Consul's encodeKVasRFC1464: the key's backquotes doubled, `=` and edge spaces backquoted; the value's backquotes doubled. */
export function encodeRfc1464(key: string, value: string): string {
  let k = key.replaceAll('`', '``').replaceAll('=', '`=');
  const lead = /^ +/.exec(k)?.[0].length ?? 0;
  k = '` '.repeat(lead) + k.slice(lead);
  const trail = / +$/.exec(k)?.[0].length ?? 0;
  k = k.slice(0, k.length - trail) + '` '.repeat(trail);
  return `${k}=${value.replaceAll('`', '``')}`;
}

/** A character-string holds at most 255 bytes; longer text is split on code-point boundaries. */
function splitCharacterStrings(text: string): string[] {
  if (Buffer.byteLength(text) <= 255) return [text];
  const out: string[] = [];
  let cur = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > 255) {
      out.push(cur);
      cur = '';
      bytes = 0;
    }
    cur += ch;
    bytes += n;
  }
  out.push(cur);
  return out;
}

/** One TXT per meta key; an `rfc1035-` key (any case) publishes its value alone. */
export function buildMetaTxt(owner: string, meta: Readonly<Record<string, string>>, ttl: number): TxtRecord[] {
  const out: TxtRecord[] = [];
  for (const [key, value] of Object.entries(meta)) {
    const text = key.toLowerCase().startsWith('rfc1035-') ? value : encodeRfc1464(key, value);
    out.push({ type: 'TXT', name: owner, ttl, data: splitCharacterStrings(text) });
  }
  return out;
}
