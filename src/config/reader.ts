// A checked view of one config object: typed getters, HCL block lists undone, unknown keys reported.
import { ConfigError, ErrorCode } from '../errors.js';
import { parseDuration } from './duration.js';
import type { Parsed } from './values.js';

export interface DecodeContext {
  readonly file: string;
  /** Dotted paths of keys Consul knows that we accept and do not use. */
  readonly ignored: string[];
  readonly warnings: string[];
}

export type Plain = Record<string, unknown>;

export function isPlain(v: unknown): v is Plain {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  return typeof v === 'object' ? 'object' : typeof v;
}

function got(v: unknown): string {
  return typeof v === 'string' ? `string "${v}"` : typeof v === 'number' || typeof v === 'boolean' ? `${typeName(v)} ${String(v)}` : typeName(v);
}

// The HTTP API spells keys in CamelCase; a few of those map to a different snake_case key.
const ALIASES: Readonly<Record<string, string>> = { check_id: 'id', script_args: 'args', ignore_check_i_ds: 'ignore_check_ids' };

export function canonicalKey(written: string): string {
  const snake = /[A-Z]/.test(written)
    ? written.replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()
    : written;
  return ALIASES[snake] ?? snake;
}

function joinPath(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j] ?? 0;
      row[j] = Math.min(here + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length] ?? 0;
}

interface IntRange { readonly min: number; readonly max: number }

/** An upper bound on a duration, in whole seconds as it will be used, with the reason given to the user. */
export interface DurationBound { readonly maxSeconds: number; readonly why: string }

/** RFC 2181 §8: a TTL is at most 2^31 − 1 seconds; a larger one cannot be encoded, so every answer would fail. */
export const MAX_TTL_SECONDS = 2_147_483_647;
export const TTL_BOUND: DurationBound = { maxSeconds: MAX_TTL_SECONDS, why: 'the largest TTL DNS allows' };
/** Node's timers hold at most 2^31-1 ms; a longer interval would fire after 1 ms and spin. */
export const TIMER_BOUND: DurationBound = { maxSeconds: 2_147_483, why: 'the longest timer Node can set' };

export class ObjectReader {
  private readonly entries = new Map<string, { readonly written: string; readonly value: unknown }>();
  private readonly known = new Set<string>();

  /** `camel`: accept the HTTP API's CamelCase spellings (service and check definitions). */
  constructor(readonly ctx: DecodeContext, readonly path: string, obj: Plain, readonly camel = false) {
    for (const [written, value] of Object.entries(obj)) {
      const key = camel ? canonicalKey(written) : written;
      const prev = this.entries.get(key);
      if (prev) {
        throw new ConfigError(ErrorCode.CONFIG_VALUE, { file: ctx.file, key: joinPath(path, written) },
          `the same key is also given as "${prev.written}"`);
      }
      this.entries.set(key, { written, value });
    }
  }

  pathOf(key: string): string {
    return joinPath(this.path, this.entries.get(key)?.written ?? key);
  }

  /** Whether the keys are written in the API's CamelCase (to name a missing key the way the writer spells them). */
  isCamelCase(): boolean {
    for (const { written } of this.entries.values()) if (/^[A-Z]/.test(written)) return true;
    return false;
  }

  fail(code: ErrorCode, key: string, reason: string): never {
    throw new ConfigError(code, { file: this.ctx.file, key: this.pathOf(key) }, reason);
  }

  /** The raw value; null counts as absent, as Consul's decoder treats it. */
  raw(key: string): unknown {
    this.known.add(key);
    const v = this.entries.get(key)?.value;
    return v === null ? undefined : v;
  }

  has(key: string): boolean {
    return this.raw(key) !== undefined;
  }

  private typeError(key: string, expected: string, v: unknown): never {
    return this.fail(ErrorCode.CONFIG_TYPE, key, `expected ${expected}, got ${got(v)}`);
  }

  string(key: string, opts: { nonEmpty?: boolean } = {}): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.typeError(key, 'a string', v);
    if (opts.nonEmpty && v.trim() === '') this.fail(ErrorCode.CONFIG_VALUE, key, 'must not be empty');
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.typeError(key, 'a boolean', v);
    return v;
  }

  int(key: string, range: IntRange): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number') this.typeError(key, 'a number', v);
    if (!Number.isInteger(v) || v < range.min || v > range.max) {
      this.fail(ErrorCode.CONFIG_VALUE, key, `must be an integer from ${range.min} to ${range.max}, got ${v}`);
    }
    return v;
  }

  port(key: string): number | undefined {
    return this.int(key, { min: 0, max: 65535 });
  }

  /** Milliseconds from a Go duration string; bare numbers are refused (their unit would be a guess). */
  duration(key: string, bound?: DurationBound): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    return this.durationValue(key, v, bound);
  }

  private durationValue(key: string, v: unknown, bound?: DurationBound): number {
    if (typeof v !== 'string') this.typeError(key, 'a duration string like "10s"', v);
    const ms = parseDuration(v);
    if (ms === undefined) this.fail(ErrorCode.CONFIG_VALUE, key, `is not a duration (like "10s", "1m30s", "500ms"), got "${v}"`);
    if (ms < 0) this.fail(ErrorCode.CONFIG_VALUE, key, `must not be negative, got "${v}"`);
    if (bound && Math.floor(ms / 1000) > bound.maxSeconds) {
      this.fail(ErrorCode.CONFIG_VALUE, key, `must be at most ${bound.maxSeconds}s (${bound.why}), got "${v}"`);
    }
    return ms;
  }

  strings(key: string): string[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.typeError(key, 'a list of strings', v);
    v.forEach((item: unknown, i) => {
      if (typeof item !== 'string') this.fail(ErrorCode.CONFIG_TYPE, `${key}[${i}]`, `expected a string, got ${got(item)}`);
    });
    return v as string[];
  }

  /** An object, also given as HCL's one-element list of blocks. */
  private plain(key: string): Plain | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (isPlain(v)) return v;
    if (Array.isArray(v) && v.every(isPlain)) {
      if (v.length === 1) return v[0] as Plain;
      if (v.length > 1) this.fail(ErrorCode.CONFIG_TYPE, key, `expected one object, got ${v.length} blocks`);
    }
    return this.typeError(key, 'an object', v);
  }

  object(key: string, camel = this.camel): ObjectReader | undefined {
    const obj = this.plain(key);
    return obj === undefined ? undefined : new ObjectReader(this.ctx, this.pathOf(key), obj, camel);
  }

  /** A list of objects; with `single`, one object (JSON) or one block (HCL) is accepted and keeps a path without [i]. */
  objects(key: string, opts: { single?: boolean; camel?: boolean } = {}): ObjectReader[] {
    const camel = opts.camel ?? this.camel;
    const v = this.raw(key);
    if (v === undefined) return [];
    const base = this.pathOf(key);
    if (opts.single && isPlain(v)) return [new ObjectReader(this.ctx, base, v, camel)];
    if (!Array.isArray(v)) return this.typeError(key, opts.single ? 'an object or a list of objects' : 'a list of objects', v);
    if (opts.single && v.length === 1 && isPlain(v[0])) return [new ObjectReader(this.ctx, base, v[0], camel)];
    return v.map((item: unknown, i) => {
      if (!isPlain(item)) this.fail(ErrorCode.CONFIG_TYPE, `${key}[${i}]`, `expected an object, got ${got(item)}`);
      return new ObjectReader(this.ctx, `${base}[${i}]`, item, camel);
    });
  }

  /** A free-form map (proxy `config`): only its HCL block wrapper is undone; the contents are kept as given. */
  free(key: string): Plain | undefined {
    return this.plain(key);
  }

  freeList(key: string): Plain[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.typeError(key, 'a list of objects', v);
    v.forEach((item: unknown, i) => {
      if (!isPlain(item)) this.fail(ErrorCode.CONFIG_TYPE, `${key}[${i}]`, `expected an object, got ${got(item)}`);
    });
    return v as Plain[];
  }

  stringMap(key: string): Record<string, string> | undefined {
    const obj = this.plain(key);
    if (obj === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v !== 'string') {
        throw new ConfigError(ErrorCode.CONFIG_TYPE, { file: this.ctx.file, key: `${this.pathOf(key)}.${k}` }, `expected a string, got ${got(v)}`);
      }
      out[k] = v;
    }
    return out;
  }

  /** Map of name → duration (dns_config.service_ttl), in milliseconds. */
  durationMap(key: string, bound?: DurationBound): Record<string, number> | undefined {
    const obj = this.plain(key);
    if (obj === undefined) return undefined;
    const inner = new ObjectReader(this.ctx, this.pathOf(key), obj);
    const out: Record<string, number> = {};
    for (const k of Object.keys(obj)) out[k] = inner.durationValue(k, inner.raw(k), bound);
    return out;
  }

  /** HTTP check headers: name → list of values. */
  headerMap(key: string): Record<string, string[]> | undefined {
    const obj = this.plain(key);
    if (obj === undefined) return undefined;
    const inner = new ObjectReader(this.ctx, this.pathOf(key), obj);
    const out: Record<string, string[]> = {};
    for (const k of Object.keys(obj)) out[k] = inner.strings(k) ?? [];
    return out;
  }

  /** Keys Consul accepts that we do not use: remembered for the one "ignoring keys" warning. */
  ignore(...keys: string[]): void {
    for (const k of keys) if (this.has(k)) this.ctx.ignored.push(this.pathOf(k));
  }

  /** Ignores every key whose canonical name starts with `prefix` (tls_*, verify_*, …). */
  ignorePrefix(...prefixes: string[]): void {
    for (const k of this.entries.keys()) if (prefixes.some((p) => k.startsWith(p))) this.ignore(k);
  }

  /** Every key not read or ignored is one Consul does not know: the first stops the load. */
  finish(): void {
    for (const [key, { written }] of this.entries) {
      if (this.known.has(key)) continue;
      let best: string | undefined;
      let bestScore = 3;
      for (const k of this.known) {
        const d = distance(key, k);
        if (d < bestScore) { best = k; bestScore = d; }
      }
      const hint = best !== undefined ? ` (did you mean "${best}"?)` : '';
      throw new ConfigError(ErrorCode.CONFIG_UNKNOWN_KEY, { file: this.ctx.file, key: joinPath(this.path, written) }, `unknown key${hint}`);
    }
  }
}

/** A string key parsed by `parse`; its error becomes the key's CONFIG_VALUE problem. */
export function parsed<T>(r: ObjectReader, key: string, text: string | undefined, parse: (t: string) => Parsed<T>): T | undefined {
  if (text === undefined) return undefined;
  const p = parse(text);
  return 'error' in p ? r.fail(ErrorCode.CONFIG_VALUE, key, p.error) : p.value;
}

/** Drops undefined members so merging never overwrites a value with "not said". */
export function defined<T extends object>(obj: T): T | undefined {
  const out = Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
  return Object.keys(out).length > 0 ? out : undefined;
}
