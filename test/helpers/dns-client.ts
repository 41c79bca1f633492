// A tiny raw DNS client for tests: build a query, send it over UDP or TCP to loopback, parse the reply.
//
//   const q = buildQuery({ name: 'redis.connect.consul.', type: 'SRV', edns: { udpSize: 1232 } });
//   const r = parseReply(await sendUdp(port, q));           // or sendTcp(port, q)
//   r.rcodeName === 'NOERROR'; r.flags.aa; r.answer[0] === 'redis.connect.consul. 0 IN SRV 1 1 21000 node1.node.dc1.consul.'
//   r.opt?.udpSize === 1232
//
// Records are zone-file lines "name ttl IN TYPE rdata" with rdata as dig prints it (TXT quoted).
// Additional never lists the OPT; it is in `opt`. The reply parser uses dns2 (tests only).
import dgram from 'node:dgram';
import net from 'node:net';
import { Packet } from 'dns2';

export interface QuerySpec {
  /** FQDN or not; case kept. '.' is the root. */
  readonly name: string;
  /** A type name ('SRV') or number. Default 'A'. */
  readonly type?: string | number;
  readonly qclass?: number;
  /** Default: random. */
  readonly id?: number;
  /** Default rd: true; everything else false/0. */
  readonly flags?: { readonly rd?: boolean; readonly cd?: boolean; readonly qr?: boolean; readonly opcode?: number };
  /** Adds an OPT record (root owner, no options). */
  readonly edns?: { readonly udpSize?: number; readonly do?: boolean; readonly version?: number };
}

const TYPE_NUMBERS: Record<string, number> = Packet.TYPE as unknown as Record<string, number>;
const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE_NUMBERS).map(([k, v]) => [v, k === 'EDNS' ? 'OPT' : k]));
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export function typeNumber(type: string | number): number {
  if (typeof type === 'number') return type;
  const n = type === 'OPT' ? 41 : TYPE_NUMBERS[type.toUpperCase()];
  if (n === undefined) throw new Error(`unknown type ${type}`);
  return n;
}

export function encodeName(name: string): Buffer {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  const parts = bare === '' ? [] : bare.split('.');
  const out: Buffer[] = [];
  for (const p of parts) out.push(Buffer.from([p.length]), Buffer.from(p, 'latin1'));
  out.push(Buffer.from([0]));
  return Buffer.concat(out);
}

/** A bare 12-byte header with these flags and section counts (for hand-built, often malformed, messages). */
export function buildHeader(id: number, flags: number, qd: number, an = 0, ns = 0, ar = 0): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  h.writeUInt16BE(ns, 8);
  h.writeUInt16BE(ar, 10);
  return h;
}

/** A query message as a client would send it (no TCP length prefix). */
export function buildQuery(spec: QuerySpec): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(spec.id ?? Math.floor(Math.random() * 65536), 0);
  const f = spec.flags ?? {};
  header[2] = (f.qr ? 0x80 : 0) | (((f.opcode ?? 0) & 0x0f) << 3) | (f.rd ?? true ? 0x01 : 0);
  header[3] = f.cd ? 0x10 : 0;
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(spec.edns ? 1 : 0, 10);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(typeNumber(spec.type ?? 'A'), 0);
  tail.writeUInt16BE(spec.qclass ?? 1, 2);
  const parts = [header, encodeName(spec.name), tail];
  if (spec.edns) parts.push(buildOpt(spec.edns));
  return Buffer.concat(parts);
}

/** An OPT RR with no options. */
export function buildOpt(e: { udpSize?: number; do?: boolean; version?: number; extRcode?: number }): Buffer {
  const opt = Buffer.alloc(11);
  opt.writeUInt16BE(41, 1);
  opt.writeUInt16BE(e.udpSize ?? 1232, 3);
  opt[5] = e.extRcode ?? 0;
  opt[6] = e.version ?? 0;
  opt.writeUInt16BE(e.do ? 0x8000 : 0, 7);
  return opt;
}

/** One datagram to 127.0.0.1:port (or `address`); resolves with the first reply, rejects after timeoutMs. */
export function sendUdp(port: number, query: Buffer, opts: { timeoutMs?: number; address?: string } = {}): Promise<Buffer> {
  const address = opts.address ?? '127.0.0.1';
  const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('UDP query timed out')), opts.timeoutMs ?? 2000);
    socket.on('error', reject);
    socket.on('message', (msg) => { clearTimeout(timer); resolve(msg); });
    socket.send(query, port, address);
  }).finally(() => socket.close());
}

/** Frames for the given messages, each with its 2-byte length. */
export function frame(...messages: Buffer[]): Buffer {
  return Buffer.concat(messages.flatMap((m) => {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(m.length, 0);
    return [len, m];
  }));
}

/** Reads length-prefixed messages from a socket until `count` arrived or it closed. */
export function readFrames(socket: net.Socket, count: number, timeoutMs = 2000): Promise<{ messages: Buffer[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const messages: Buffer[] = [];
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve({ messages, closed });
    };
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        messages.push(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
      }
      if (messages.length >= count) finish(false);
    };
    const onClose = (): void => finish(true);
    const timer = setTimeout(() => {
      socket.off('data', onData);
      socket.off('close', onClose);
      reject(new Error(`TCP: ${messages.length} of ${count} replies before timeout`));
    }, timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

export function connectTcp(port: number, address = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: address }, () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

/** One query over a fresh TCP connection; resolves with the reply message (no length prefix). */
export async function sendTcp(port: number, query: Buffer, opts: { timeoutMs?: number; address?: string } = {}): Promise<Buffer> {
  const s = await connectTcp(port, opts.address);
  try {
    const pending = readFrames(s, 1, opts.timeoutMs ?? 2000);
    s.write(frame(query));
    const { messages } = await pending;
    const reply = messages[0];
    if (!reply) throw new Error('TCP connection closed without a reply');
    return reply;
  } finally {
    s.destroy();
  }
}

export interface ParsedReply {
  readonly id: number;
  readonly opcode: number;
  readonly flags: { readonly qr: boolean; readonly aa: boolean; readonly tc: boolean; readonly rd: boolean; readonly ra: boolean; readonly ad: boolean; readonly cd: boolean };
  /** Including the OPT's extended bits (BADVERS = 16). */
  readonly rcode: number;
  readonly rcodeName: string;
  readonly question?: { readonly name: string; readonly type: string; readonly class: number };
  readonly answer: string[];
  readonly authority: string[];
  readonly additional: string[];
  readonly opt?: { readonly udpSize: number; readonly version: number; readonly do: boolean; readonly extRcode: number };
  /** Decode problems dns2 reported (a well-formed reply has none). */
  readonly errors: string[];
  readonly size: number;
}

interface LooseRr {
  name: string; type: number; class: number; ttl: number;
  address?: string; domain?: string; ns?: string; target?: string; exchange?: string;
  priority?: number; weight?: number; port?: number; data?: unknown;
  primary?: string; admin?: string; serial?: number; refresh?: number; retry?: number; expiration?: number; minimum?: number;
  extendedRcode?: number; version?: number; doFlag?: boolean;
}

const fqdn = (n: string | undefined): string => (!n ? '.' : `${n}.`);

function quoteTxt(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b < 0x20 || b > 0x7e) out += `\\${String(b).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `${out}"`;
}

function rdata(rr: LooseRr): string {
  switch (TYPE_NAMES.get(rr.type)) {
    case 'A': case 'AAAA': return rr.address ?? '';
    case 'CNAME': case 'PTR': return fqdn(rr.domain);
    case 'NS': return fqdn(rr.ns);
    case 'MX': return `${rr.priority} ${fqdn(rr.exchange)}`;
    case 'SRV': return `${rr.priority} ${rr.weight} ${rr.port} ${fqdn(rr.target)}`;
    case 'TXT': return (Array.isArray(rr.data) ? (rr.data as string[]) : [String(rr.data)]).map(quoteTxt).join(' ');
    case 'SOA': return `${fqdn(rr.primary)} ${fqdn(rr.admin)} ${rr.serial} ${rr.refresh} ${rr.retry} ${rr.expiration} ${rr.minimum}`;
    default: {
      const d = Buffer.isBuffer(rr.data) ? rr.data : Buffer.alloc(0);
      return `\\# ${d.length} ${d.toString('hex')}`.trimEnd();
    }
  }
}

/** "name ttl IN TYPE rdata", the way the case tables and dig write it. */
export function formatRr(rr: LooseRr): string {
  const type = TYPE_NAMES.get(rr.type) ?? `TYPE${rr.type}`;
  const cls = rr.class === 1 ? 'IN' : `CLASS${rr.class}`;
  return `${fqdn(rr.name)} ${rr.ttl} ${cls} ${type} ${rdata(rr)}`;
}

export function parseReply(buf: Buffer): ParsedReply {
  const p = Packet.parse(buf);
  const h = p.header as unknown as Record<string, number>;
  const additionals = p.additionals as unknown as LooseRr[];
  const optRr = additionals.find((r) => r.type === 41);
  const q = (p.questions as unknown as { name: string; type: number; class: number }[])[0];
  const rcode = h['rcode'] ?? 0;
  return {
    id: h['id'] ?? 0,
    opcode: h['opcode'] ?? 0,
    flags: { qr: !!h['qr'], aa: !!h['aa'], tc: !!h['tc'], rd: !!h['rd'], ra: !!h['ra'], ad: !!h['ad'], cd: !!h['cd'] },
    rcode,
    rcodeName: rcode === 16 ? 'BADVERS' : RCODE_NAMES[rcode] ?? `RCODE${rcode}`,
    ...(q ? { question: { name: fqdn(q.name), type: TYPE_NAMES.get(q.type) ?? `TYPE${q.type}`, class: q.class } } : {}),
    answer: (p.answers as unknown as LooseRr[]).map(formatRr),
    authority: (p.authorities as unknown as LooseRr[]).map(formatRr),
    additional: additionals.filter((r) => r.type !== 41).map(formatRr),
    ...(optRr ? { opt: { udpSize: optRr.class, version: optRr.version ?? 0, do: !!optRr.doFlag, extRcode: optRr.extendedRcode ?? 0 } } : {}),
    errors: (p.errors as unknown as { message: string }[]).map((e) => e.message),
    size: buf.length,
  };
}
