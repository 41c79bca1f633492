// A scriptable fake recursor on loopback (UDP and TCP on one port) that records every query it gets.
import dgram from 'node:dgram';
import net from 'node:net';
import type { Query } from '../../src/dns/records.js';

export type FakeBehaviour = 'answer' | 'silent' | 'servfail' | 'refused' | 'wrong-id' | 'wrong-question'
  | 'truncate' | 'nxdomain' | 'wrong-then-right' /* sends a wrong-ID reply, then the right one */;

export interface FakeQuery {
  proto: 'udp' | 'tcp';
  raw: Buffer;
  id: number;
  /** As received, dotted, with its trailing dot and original case. */
  name: string;
  qtype: number;
  rd: boolean;
  cd: boolean;
  do: boolean;
  hasOpt: boolean;
  /** How many EDNS options the query's OPT carried. */
  optOptions: number;
  /** The sender's port (fresh per forwarded UDP query). */
  sourcePort: number;
}

export interface FakeUpstream {
  address: string;
  /** UDP and TCP on the same port. */
  port: number;
  queries: FakeQuery[];
  setBehaviour(b: FakeBehaviour): void;
  close(): Promise<void>;
}

export interface FakeUpstreamOptions {
  behaviour: FakeBehaviour;
  address?: '127.0.0.1' | '::1';
  /** Zone-file lines for the answer section, e.g. "example.com. 300 IN A 192.0.2.1". */
  answers?: (name: string, qtype: number) => string[];
  /** Zone-file lines for the additional section. */
  additional?: (name: string, qtype: number) => string[];
  /** Adds "injected.consul. 300 IN A 192.0.2.66" to answer and additional (tests the in-zone filter). */
  injectInZone?: boolean;
  /** That many answers instead of the defaults; for 'truncate': UDP replies TC=1 with no answers, TCP the full set. */
  bigAnswerCount?: number;
  /** Option bytes the fake's own OPT carries (default: a COOKIE option), so tests see it is not relayed. */
  replyOptOptions?: Buffer;
}

const TYPES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33 };

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((l) => l.length > 0).map((l) => {
    const b = Buffer.from(l, 'latin1');
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

function u32(v: number): Buffer {
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

function defaultAnswers(name: string, qtype: number, count?: number): string[] {
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

interface Parsed { query: FakeQuery; questionEnd: number }

function parseQuery(raw: Buffer, proto: 'udp' | 'tcp', sourcePort: number): Parsed | undefined {
  if (raw.length < 12 || raw.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let pos = 12;
  for (let len = raw[pos]; len !== undefined && len !== 0; len = raw[pos]) {
    if (len > 63) return undefined;
    labels.push(raw.subarray(pos + 1, pos + 1 + len).toString('latin1'));
    pos += 1 + len;
  }
  pos += 1;
  if (pos + 4 > raw.length) return undefined;
  const qtype = raw.readUInt16BE(pos);
  const questionEnd = pos + 4;
  let hasOpt = false;
  let dnssecOk = false;
  let optOptions = 0;
  // Only our forwarder's shape is expected here: the OPT right after the question.
  if (raw.readUInt16BE(10) >= 1 && raw[questionEnd] === 0 && raw.readUInt16BE(questionEnd + 1) === 41) {
    hasOpt = true;
    dnssecOk = (raw.readUInt32BE(questionEnd + 5) & 0x8000) !== 0;
    const rdEnd = questionEnd + 11 + raw.readUInt16BE(questionEnd + 9);
    for (let p = questionEnd + 11; p + 4 <= rdEnd; p += 4 + raw.readUInt16BE(p + 2)) optOptions++;
  }
  const flags = raw.readUInt16BE(2);
  return {
    questionEnd,
    query: {
      proto, raw: Buffer.from(raw), id: raw.readUInt16BE(0), name: `${labels.join('.')}.`, qtype,
      rd: (flags & 0x0100) !== 0, cd: (flags & 0x0010) !== 0, do: dnssecOk, hasOpt, optOptions, sourcePort,
    },
  };
}

export async function startFakeUpstream(opts: FakeUpstreamOptions): Promise<FakeUpstream> {
  const address = opts.address ?? '127.0.0.1';
  let behaviour = opts.behaviour;
  const queries: FakeQuery[] = [];
  const optOptions = opts.replyOptOptions ?? Buffer.concat([u16(10), u16(8), Buffer.from('0123456789abcdef', 'hex')]);

  function reply(p: Parsed, id: number, rcode: number, tc: boolean, full: boolean, qname = p.query.name): Buffer {
    const q = p.query;
    const answers = full && rcode === 0
      ? [...(opts.answers?.(q.name, q.qtype) ?? defaultAnswers(q.name, q.qtype, opts.bigAnswerCount)),
        ...(opts.injectInZone ? ['injected.consul. 300 IN A 192.0.2.66'] : [])]
      : [];
    const additional = full && rcode === 0
      ? [...(opts.additional?.(q.name, q.qtype) ?? []),
        ...(opts.injectInZone ? ['injected.consul. 300 IN A 192.0.2.66'] : [])]
      : [];
    const question = qname === q.name
      ? q.raw.subarray(12, p.questionEnd)
      : Buffer.concat([encodeName(qname), q.raw.subarray(p.questionEnd - 4, p.questionEnd)]);
    const opt = q.hasOpt
      ? Buffer.concat([Buffer.from([0]), u16(41), u16(4096), u32(q.do ? 0x8000 : 0), u16(optOptions.length), optOptions])
      : Buffer.alloc(0);
    const header = Buffer.concat([u16(id), u16(0x8080 | (q.rd ? 0x0100 : 0) | (tc ? 0x0200 : 0) | rcode),
      u16(1), u16(answers.length), u16(0), u16(additional.length + (q.hasOpt ? 1 : 0))]);
    return Buffer.concat([header, question, ...answers.map((l) => encodeRecord(l, q.name)),
      ...additional.map((l) => encodeRecord(l, q.name)), opt]);
  }

  /** The replies to send for one query, in order (none for 'silent'). */
  function respond(raw: Buffer, proto: 'udp' | 'tcp', sourcePort: number): Buffer[] {
    const p = parseQuery(raw, proto, sourcePort);
    if (!p) return [];
    queries.push(p.query);
    const id = p.query.id;
    switch (behaviour) {
      case 'silent': return [];
      case 'servfail': return [reply(p, id, 2, false, false)];
      case 'refused': return [reply(p, id, 5, false, false)];
      case 'nxdomain': return [reply(p, id, 3, false, false)];
      case 'wrong-id': return [reply(p, id ^ 0x5a5a, 0, false, true)];
      case 'wrong-question': return [reply(p, id, 0, false, true, `wrong.${p.query.name}`)];
      case 'wrong-then-right': return [reply(p, id ^ 0x5a5a, 0, false, true), reply(p, id, 0, false, true)];
      case 'truncate': return [proto === 'udp' ? reply(p, id, 0, true, false) : reply(p, id, 0, false, true)];
      case 'answer': return [reply(p, id, 0, false, true)];
    }
  }

  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + msg.length);
        for (const out of respond(msg, 'tcp', socket.remotePort ?? 0)) socket.write(Buffer.concat([u16(out.length), out]));
      }
    });
  });

  // UDP picks a free port; TCP must get the same one, so try again with a new pair if it is taken.
  let udp: dgram.Socket | undefined;
  let port = 0;
  for (let attempt = 0; udp === undefined; attempt++) {
    const candidate = dgram.createSocket(address === '::1' ? 'udp6' : 'udp4');
    port = await new Promise<number>((resolve, reject) => {
      candidate.once('error', reject);
      candidate.bind(0, address, () => { candidate.off('error', reject); resolve(candidate.address().port); });
    });
    const bound = await new Promise<boolean>((resolve) => {
      const onError = (): void => resolve(false);
      tcp.once('error', onError);
      tcp.listen(port, address, () => { tcp.off('error', onError); resolve(true); });
    });
    if (bound) { udp = candidate; break; }
    await new Promise<void>((resolve) => candidate.close(() => resolve()));
    if (attempt >= 10) throw new Error('fake upstream: no port free for both UDP and TCP');
  }
  const server = udp;
  server.on('message', (msg, rinfo) => {
    for (const out of respond(msg, 'udp', rinfo.port)) server.send(out, rinfo.port, rinfo.address);
  });

  let closing: Promise<void> | undefined;
  return {
    address,
    port,
    queries,
    setBehaviour(b: FakeBehaviour): void { behaviour = b; },
    close(): Promise<void> {
      closing ??= closeAll();
      return closing;
    },
  };

  async function closeAll(): Promise<void> {
    for (const s of sockets) s.destroy();
    await Promise.all([
      new Promise<void>((resolve) => server.close(() => resolve())),
      new Promise<void>((resolve) => tcp.close(() => resolve())),
    ]);
  }
}

export interface ClientQueryOptions {
  name: string;
  qtype: number;
  id?: number;
  rd?: boolean;
  cd?: boolean;
  proto?: 'udp' | 'tcp';
  /** The client's OPT; `options` are raw option bytes (e.g. a COOKIE) it carries. */
  edns?: { udpSize: number; do: boolean; options?: Buffer };
}

/** A client Query as src/dns/ would decode it, raw bytes included (for forwarder tests). */
export function buildClientQuery(o: ClientQueryOptions): Query {
  const id = o.id ?? 0x4242;
  const rd = o.rd ?? true;
  const cd = o.cd ?? false;
  const question = Buffer.concat([encodeName(o.name), u16(o.qtype), u16(1)]);
  const options = o.edns?.options ?? Buffer.alloc(0);
  const opt = o.edns
    ? Buffer.concat([Buffer.from([0]), u16(41), u16(o.edns.udpSize), u32(o.edns.do ? 0x8000 : 0), u16(options.length), options])
    : Buffer.alloc(0);
  const header = Buffer.concat([u16(id), u16((rd ? 0x0100 : 0) | (cd ? 0x0010 : 0)), u16(1), u16(0), u16(0),
    u16(o.edns ? 1 : 0)]);
  const raw = Buffer.concat([header, question, opt]);
  return {
    id, name: o.name, qname: o.name.toLowerCase(), qtype: o.qtype, qclass: 1, rd, cd, proto: o.proto ?? 'udp',
    client: { address: '127.0.0.1', port: 53000 },
    ...(o.edns ? { edns: { udpSize: Math.max(512, o.edns.udpSize), version: 0, do: o.edns.do } } : {}),
    raw, questionEnd: 12 + question.length,
  };
}
