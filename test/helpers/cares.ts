// Queries a test server with Node's own resolver (c-ares) and renders results like the case tables.
import { promises as dnsp } from 'node:dns';

export type CaresOutcome =
  | { readonly ok: true; readonly records: readonly string[] }
  | { readonly ok: false; readonly code: string };

/** Error code c-ares reports for each rcode / empty answer. */
export const caresCodeFor: Record<string, string> = {
  NXDOMAIN: 'ENOTFOUND',
  NODATA: 'ENODATA',
  SERVFAIL: 'ESERVFAIL',
  REFUSED: 'EREFUSED',
  NOTIMP: 'ENOTIMP',
  FORMERR: 'EFORMERR',
};

/** The qtypes c-ares can ask for through Node's API. */
export const caresTypes = new Set(['A', 'AAAA', 'SRV', 'TXT', 'PTR', 'NS', 'SOA', 'CNAME']);

/**
 * Resolves `name`/`qtype` via c-ares at 127.0.0.1:port. Rendering: A/AAAA "addr ttl", SRV
 * "prio weight port target.", TXT the strings joined, PTR/NS/CNAME "target.", SOA the fields.
 */
export async function cares(port: number, name: string, qtype: string, address = '127.0.0.1'): Promise<CaresOutcome> {
  const r = new dnsp.Resolver({ timeout: 3000, tries: 1 });
  r.setServers([address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`]);
  const fqdn = name.endsWith('.') ? name : `${name}.`;
  try {
    switch (qtype) {
      case 'A':
        return { ok: true, records: (await r.resolve4(fqdn, { ttl: true })).map((x) => `${x.address} ${x.ttl}`) };
      case 'AAAA':
        return { ok: true, records: (await r.resolve6(fqdn, { ttl: true })).map((x) => `${x.address} ${x.ttl}`) };
      case 'SRV':
        return { ok: true, records: (await r.resolveSrv(fqdn)).map((x) => `${x.priority} ${x.weight} ${x.port} ${dot(x.name)}`) };
      case 'TXT':
        return { ok: true, records: (await r.resolveTxt(fqdn)).map((chunks) => chunks.join('')) };
      case 'PTR':
        return { ok: true, records: (await r.resolvePtr(fqdn)).map(dot) };
      case 'NS':
        return { ok: true, records: (await r.resolveNs(fqdn)).map(dot) };
      case 'CNAME':
        return { ok: true, records: (await r.resolveCname(fqdn)).map(dot) };
      case 'SOA': {
        const s = await r.resolveSoa(fqdn);
        return { ok: true, records: [`${dot(s.nsname)} ${dot(s.hostmaster)} ${s.refresh} ${s.retry} ${s.expire} ${s.minttl}`] };
      }
      default:
        throw new Error(`c-ares cannot ask for ${qtype}`);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return { ok: false, code };
    throw err;
  } finally {
    r.cancel();
  }
}

function dot(name: string): string {
  return name.endsWith('.') ? name.toLowerCase() : `${name.toLowerCase()}.`;
}

/** What c-ares should report for an expected answer, from zone-file lines of the case table. */
export function expectedCares(qtype: string, rcode: string, answer: readonly string[]): CaresOutcome {
  if (rcode !== 'NOERROR') return { ok: false, code: caresCodeFor[rcode] ?? rcode };
  const rdata: string[] = [];
  for (const line of answer) {
    const [, ttl, , type, ...rest] = line.split(' ');
    if (type !== qtype) continue;
    const data = rest.join(' ');
    switch (type) {
      case 'A':
      case 'AAAA':
        rdata.push(`${data} ${ttl}`);
        break;
      case 'SRV': {
        const [p, w, port, target] = data.split(' ');
        rdata.push(`${p} ${w} ${port} ${(target ?? '').toLowerCase()}`);
        break;
      }
      case 'TXT':
        rdata.push(unquoteTxt(data));
        break;
      case 'PTR':
      case 'NS':
      case 'CNAME':
        rdata.push(data.toLowerCase());
        break;
      case 'SOA': {
        const [m, rn, , refresh, retry, expire, min] = data.split(' ');
        rdata.push(`${(m ?? '').toLowerCase()} ${(rn ?? '').toLowerCase()} ${refresh} ${retry} ${expire} ${min}`);
        break;
      }
    }
  }
  // c-ares follows a CNAME inside the answer and reports an empty list when the chain ends elsewhere.
  if (rdata.length === 0) return answer.some((l) => l.split(' ')[3] === 'CNAME') ? { ok: true, records: [] } : { ok: false, code: 'ENODATA' };
  return { ok: true, records: rdata };
}

function unquoteTxt(data: string): string {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(data); m; m = re.exec(data)) out.push((m[1] ?? '').replace(/\\(.)/g, '$1'));
  return out.join('');
}
