// Several config problems (the first of each bad file) carried as one ConfigError.
import { ConfigError } from '../errors.js';

export class ConfigProblems extends ConfigError {
  constructor(readonly problems: readonly ConfigError[]) {
    const first = problems[0];
    if (!first) throw new RangeError('ConfigProblems needs at least one problem');
    super(first.code, first.location, first.reason);
    this.name = 'ConfigProblems';
    this.message = problems.map((p) => p.message).join('\n');
  }
}

/** Every problem inside a ConfigError: its list when it carries several, else itself. */
export function configProblems(err: ConfigError): readonly ConfigError[] {
  return err instanceof ConfigProblems ? err.problems : [err];
}

/** One error as is; several as ConfigProblems. */
export function toConfigError(problems: readonly ConfigError[]): ConfigError | undefined {
  if (problems.length === 0) return undefined;
  return problems.length === 1 ? problems[0] : new ConfigProblems(problems);
}

/** A problem as log data: code, file, key path, line/column when known, and the reason alone. */
export interface ProblemRecord {
  readonly code: string;
  readonly file: string;
  readonly key?: string;
  readonly line?: number;
  readonly column?: number;
  readonly reason: string;
}

export function problemRecords(err: ConfigError): ProblemRecord[] {
  return configProblems(err).map((p) => ({ code: p.code, ...p.location, reason: p.reason }));
}
