// Parses one config file's text (JSON or HCL v1) into a plain object, with syntax errors at line:column.
import { createRequire } from 'node:module';
import { ConfigError, ErrorCode } from '../errors.js';
import { findJsonErrorOffset, lineColumn } from './json-position.js';

export type ConfigFormat = 'json' | 'hcl';

export function formatOf(file: string): ConfigFormat | undefined {
  if (file.endsWith('.json')) return 'json';
  if (file.endsWith('.hcl')) return 'hcl';
  return undefined;
}

function syntaxError(file: string, reason: string, pos?: { line: number; column: number }): ConfigError {
  return new ConfigError(ErrorCode.CONFIG_SYNTAX, { file, ...(pos ?? {}) }, reason);
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const at = /at position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : (findJsonErrorOffset(text) ?? text.length);
    // V8 quotes the whole input in some messages; keep only the part that says what is wrong.
    const reason = message.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
    throw syntaxError(file, `invalid JSON: ${reason}`, lineColumn(text, offset));
  }
}

type Hcl = typeof import('js-hcl-parser');
let hcl: Hcl | undefined;

// Loaded on the first HCL file only: the GopherJS bundle costs tens of milliseconds a JSON-only start need not pay.
function hclParser(): Hcl {
  hcl ??= createRequire(import.meta.url)('js-hcl-parser') as Hcl;
  return hcl;
}

function parseHcl(text: string, file: string): unknown {
  const out = hclParser().parse(text);
  try {
    return JSON.parse(out);
  } catch {
    const m = /At (\d+):(\d+): (.*)$/s.exec(out);
    if (m) throw syntaxError(file, `invalid HCL: ${m[3]?.trim()}`, { line: Number(m[1]), column: Number(m[2]) });
    throw syntaxError(file, `invalid HCL: ${out.replace(/^unable to parse JSON: /, '').trim()}`);
  }
}

/** The top-level object of a config file; throws CONFIG_SYNTAX, or CONFIG_TYPE when it is not an object. */
export function parseConfigText(text: string, file: string, format: ConfigFormat): Record<string, unknown> {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  // An empty file (a placeholder, or an editor's new file) adds nothing rather than stopping start-up.
  if (body.trim() === '') return {};
  const root = format === 'json' ? parseJson(body, file) : parseHcl(body, file);
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new ConfigError(ErrorCode.CONFIG_TYPE, { file }, 'the file must hold an object at the top level');
  }
  return root as Record<string, unknown>;
}
