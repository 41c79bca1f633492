// Loads, merges and validates the agent config files and flags into one Config (throws ConfigError).
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { ConfigError, ErrorCode } from '../errors.js';
import { buildConfig, type BuildEnv } from './build.js';
import { decodeFile, type FilePart } from './decode-file.js';
import { parseFlags, FLAGS_FILE, type ConfigFlags } from './flags.js';
import { mergeParts } from './merge.js';
import { nodeNameWarnings } from './node-names.js';
import { formatOf, parseConfigText } from './parse-file.js';
import { toConfigError } from './problems.js';
import type { DecodeContext } from './reader.js';
import { checkRecursorLoops, type RecursorOrigin } from './recursor-loop.js';
import { listConfigFiles, type ConfigSources } from './sources.js';
import type { Config } from './types.js';

export type { ConfigFlags } from './flags.js';
export type { ConfigSources } from './sources.js';

export interface LoadResult {
  readonly config: Config;
  /** Human-readable lines, one per warning. */
  readonly warnings: string[];
}

async function loadFile(file: string, ctx: DecodeContext): Promise<FilePart> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(ErrorCode.CONFIG_READ, { file }, `cannot read: ${reason}`);
  }
  return decodeFile(parseConfigText(text, file, formatOf(file) ?? 'json'), ctx);
}

export async function loadConfig(sources: ConfigSources, flags: ConfigFlags, env: BuildEnv = {}): Promise<LoadResult> {
  const files = await listConfigFiles(sources);
  const parts: { file: string; part: FilePart }[] = [];
  const problems: ConfigError[] = [];
  const ignored: string[] = [];
  const warnings: string[] = [];
  // Every file is read even after a bad one, so `validate` reports the first problem of each.
  for (const file of files) {
    const ctx: DecodeContext = { file, ignored: [], warnings: [] };
    try {
      parts.push({ file, part: await loadFile(file, ctx) });
      ignored.push(...ctx.ignored);
      warnings.push(...ctx.warnings);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(err);
    }
  }
  let flagsPart: ReturnType<typeof parseFlags> | undefined;
  try {
    flagsPart = parseFlags(flags);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(err);
  }
  const failure = toConfigError(problems);
  if (failure || !flagsPart) throw failure ?? new Error('flags were not parsed');

  const merged = mergeParts(parts);
  // Flags win: --recursor replaces the files' recursors instead of adding to them.
  const withFlags = mergeParts([{ file: '<files>', part: merged.part }, { file: FLAGS_FILE, part: { ...flagsPart.part, recursors: undefined } }]);
  const part: FilePart = flagsPart.part.recursors ? { ...withFlags.part, recursors: flagsPart.part.recursors } : withFlags.part;
  const origins = new Map(merged.origins);
  for (const [k, v] of withFlags.origins) if (v === FLAGS_FILE) origins.set(k, v);

  const ignoredKeys = [...new Set(ignored)];
  if (ignoredKeys.length > 0) warnings.unshift(`ignoring keys not used by connect-dns: ${ignoredKeys.join(', ')}`);
  const config = buildConfig({ part, origins }, {
    env, files, ignoredKeys, ...(flagsPart.logFormat ? { logFormat: flagsPart.logFormat } : {}),
  });
  const recursors: RecursorOrigin[] = flagsPart.part.recursors
    ? flagsPart.part.recursors.map((upstream) => ({ upstream, file: FLAGS_FILE, key: '--recursor' }))
    : parts.flatMap(({ file, part: p }) => (p.recursors ?? []).map((upstream, i) => ({ upstream, file, key: p.recursorKeys?.[i] ?? 'recursors' })));
  checkRecursorLoops(recursors, { addresses: config.dnsAddresses, port: config.dnsPort },
    () => env.networkInterfaces ?? os.networkInterfaces());
  const nodeFile = origins.get('nodeName');
  warnings.push(...nodeNameWarnings(config, nodeFile === undefined ? undefined
    : { file: nodeFile, key: nodeFile === FLAGS_FILE ? '--node' : 'node_name' }));
  return { config, warnings };
}
