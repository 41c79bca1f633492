// Zone-file lines to wire bytes for the fake upstream's replies (names, records, RFC 3597 unknown types).

const TYPES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33 };

export function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((l) => l.length > 0).map((l) => {
    const b = Buffer.from(l, 'latin1');
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

function encodeAaaa(text: string): Buffer {
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
}

/** RDATA for a zone-file line's type and fields; TYPEnnn with "\# len hex" (RFC 3597) for anything else. */
function encodeRdata(type: string, fields: string[], rest: string): Buffer {
  switch (type) {
    case 'A': return Buffer.from((fields[0] ?? '').split('.').map(Number));
    case 'AAAA': return encodeAaaa(fields[0] ?? '');
    case 'NS': case 'CNAME': case 'PTR': return encodeName(fields[0] ?? '');
    case 'MX': return Buffer.concat([u16(Number(fields[0])), encodeName(fields[1] ?? '')]);
    case 'SRV': return Buffer.concat([u16(Number(fields[0])), u16(Number(fields[1])), u16(Number(fields[2])),
      encodeName(fields[3] ?? '')]);
    case 'SOA': return Buffer.concat([encodeName(fields[0] ?? ''), encodeName(fields[1] ?? ''),
      ...fields.slice(2, 7).map((f) => u32(Number(f)))]);
    case 'TXT': {
      const strings = [...rest.matchAll(/"([^"]*)"/g)].map((m) => Buffer.from(m[1] ?? '', 'utf8'));
      return Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([s.length]), s])));
    }
    default:
      if (fields[0] !== '\\#') throw new Error(`fake upstream: cannot encode ${type}`);
      return Buffer.from(fields.slice(2).join(''), 'hex');
  }
}

function typeNumber(type: string): number {
  const known = TYPES[type];
  if (known !== undefined) return known;
  const m = /^TYPE(\d+)$/.exec(type);
  if (!m) throw new Error(`fake upstream: unknown type ${type}`);
  return Number(m[1]);
}

/** A record from a zone-file line; an owner equal to the question name becomes a pointer to offset 12. */
export function encodeRecord(line: string, qname: string): Buffer {
  const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s*(.*)$/.exec(line.trim());
  if (!m) throw new Error(`fake upstream: bad record line ${line}`);
  const [, owner = '', ttl = '0', type = '', rest = ''] = m;
  const rdata = encodeRdata(type, rest.split(/\s+/).filter((f) => f.length > 0), rest);
  const ownerBytes = owner.toLowerCase() === qname.toLowerCase() ? u16(0xc00c) : encodeName(owner);
  return Buffer.concat([ownerBytes, u16(typeNumber(type)), u16(1), u32(Number(ttl)), u16(rdata.length), rdata]);
}

export function defaultAnswers(name: string, qtype: number, count?: number): string[] {
  if (count !== undefined) {
    return Array.from({ length: count }, (_, i) => qtype === 28
      ? `${name} 300 IN AAAA 2001:db8::${(i + 1).toString(16)}`
      : `${name} 300 IN A 192.0.2.${(i % 254) + 1}`);
  }
  if (qtype === 1) return [`${name} 300 IN A 192.0.2.1`];
  if (qtype === 28) return [`${name} 300 IN AAAA 2001:db8::1`];
  if (qtype === 16) return [`${name} 300 IN TXT "fake upstream"`];
  return [`${name} 300 IN TYPE${qtype} \\# 3 010203`];
}
