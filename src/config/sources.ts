// Lists the config files to read: each --config-file in order, then each --config-dir's *.json/*.hcl in lexical order.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, ErrorCode } from '../errors.js';
import { formatOf } from './parse-file.js';

export interface ConfigSources {
  readonly files: readonly string[];
  readonly dirs: readonly string[];
}

function readError(file: string, reason: string): ConfigError {
  return new ConfigError(ErrorCode.CONFIG_READ, { file }, reason);
}

function why(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}

export async function listConfigFiles(sources: ConfigSources): Promise<string[]> {
  const out: string[] = [];
  for (const file of sources.files) {
    const info = await stat(file).catch((err: unknown) => { throw readError(file, `cannot read: ${why(err)}`); });
    if (info.isDirectory()) throw readError(file, 'is a directory (use --config-dir)');
    if (!formatOf(file)) throw readError(file, 'a config file name must end in .json or .hcl');
    out.push(file);
  }
  for (const dir of sources.dirs) {
    const info = await stat(dir).catch((err: unknown) => { throw readError(dir, `cannot read: ${why(err)}`); });
    if (!info.isDirectory()) throw readError(dir, 'is not a directory (use --config-file)');
    const names = (await readdir(dir)).filter((n) => formatOf(n) !== undefined).sort();
    for (const name of names) {
      const file = path.join(dir, name);
      // Consul skips sub-directories even when their names look like config files.
      const entry = await stat(file).catch((err: unknown) => { throw readError(file, `cannot read: ${why(err)}`); });
      if (entry.isFile()) out.push(file);
    }
  }
  return out;
}
