// Renders one of our records as a case-table line: `<owner> <ttl> IN <TYPE> <rdata>`.
import type { Rr } from '../../src/dns/records.js';

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function formatRr(rr: Rr): string {
  const head = `${rr.name} ${rr.ttl} IN ${rr.type}`;
  switch (rr.type) {
    case 'A':
    case 'AAAA':
      return `${head} ${rr.address}`;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return `${head} ${rr.target}`;
    case 'SRV':
      return `${head} ${rr.priority} ${rr.weight} ${rr.port} ${rr.target}`;
    case 'TXT':
      return `${head} ${rr.data.map(quote).join(' ')}`;
    case 'SOA':
      return `${head} ${rr.mname} ${rr.rname} ${rr.serial} ${rr.refresh} ${rr.retry} ${rr.expire} ${rr.minimum}`;
  }
}
