// Runs the real `dig` against a test server and parses its output into comparable sections.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DigOptions {
  readonly tcp?: boolean;
  /** EDNS UDP size to advertise; `false` sends no OPT at all. Default: dig's own (1232). */
  readonly bufsize?: number | false;
  readonly norecurse?: boolean;
  readonly server?: '127.0.0.1' | '::1';
  readonly qclass?: string;
}

export interface DigResult {
  readonly status: string;
  readonly flags: readonly string[];
  readonly answer: readonly string[];
  readonly authority: readonly string[];
  readonly additional: readonly string[];
  readonly opt?: { readonly udp: number; readonly version: number };
  readonly size: number;
  readonly transport: string;
  readonly text: string;
}

let checked: Promise<boolean> | undefined;

/** Whether dig is installed; under CI (CONNECT_DNS_REQUIRE_DIG=1) a missing dig is a hard error. */
export function hasDig(): Promise<boolean> {
  checked ??= run('dig', ['-v']).then(
    () => true,
    () => {
      if (process.env['CONNECT_DNS_REQUIRE_DIG']) throw new Error('dig is required (apt-get install bind9-dnsutils)');
      return false;
    },
  );
  return checked;
}

export async function dig(port: number, name: string, type: string, opts: DigOptions = {}): Promise<DigResult> {
  const args = [`@${opts.server ?? '127.0.0.1'}`, '-p', String(port), name, type];
  if (opts.qclass) args.push('-c', opts.qclass);
  args.push('+time=3', '+tries=1', '+nocookie', '+noidnin', '+noidnout');
  // dig 9.18 sends ANY over TCP unless told otherwise; pin the transport either way.
  args.push(opts.tcp ? '+tcp' : '+notcp');
  if (opts.bufsize === false) args.push('+noedns');
  else if (opts.bufsize !== undefined) args.push(`+bufsize=${opts.bufsize}`);
  if (opts.norecurse) args.push('+norecurse');
  // +ignore keeps dig from retrying a truncated UDP answer over TCP, so tests see what UDP really carried.
  if (!opts.tcp) args.push('+ignore');
  const { stdout } = await run('dig', args, { timeout: 10_000, env: { ...process.env, HOME: '/nonexistent' } });
  return parseDig(stdout);
}

export function parseDig(text: string): DigResult {
  const lines = text.split('\n');
  const status = /status: ([A-Z]+)/.exec(text)?.[1] ?? 'NONE';
  const flags = (/;; flags:([^;]*);/.exec(text)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const optMatch = /; EDNS: version: (\d+), flags:[^;]*; udp: (\d+)/.exec(text);
  const size = Number(/MSG SIZE\s+rcvd: (\d+)/.exec(text)?.[1] ?? 0);
  const transport = /\((UDP|TCP)\)/.exec(text)?.[1] ?? '';
  const section = (title: string): string[] => {
    const start = lines.findIndex((l) => l.startsWith(`;; ${title} SECTION:`));
    if (start < 0) return [];
    const out: string[] = [];
    for (let i = start + 1; i < lines.length; i++) {
      const l = lines[i] ?? '';
      if (l.trim() === '') break;
      out.push(normaliseLine(l));
    }
    return out;
  };
  return {
    status,
    flags,
    answer: section('ANSWER'),
    authority: section('AUTHORITY'),
    additional: section('ADDITIONAL'),
    ...(optMatch ? { opt: { version: Number(optMatch[1]), udp: Number(optMatch[2]) } } : {}),
    size,
    transport,
    text,
  };
}

/** dig separates fields with tabs; the tables use single spaces. */
function normaliseLine(line: string): string {
  return line.split('\t').filter((f) => f !== '').join(' ');
}
