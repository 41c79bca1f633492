// One run of a script check (`args`, no shell): exit 0 passing, 1 warning, anything else critical.
import { spawn } from 'node:child_process';
import { formatDuration, OUTPUT_LIMIT, type ProbeResult } from './probe-result.js';

/** How long to wait for the pipes to close once the script itself has exited (a grandchild may hold them). */
const PIPE_DRAIN_MS = 200;

/** Consul's circbuf: the last OUTPUT_LIMIT bytes of stdout+stderr, since a script's reason is usually at the end. */
function tailBuffer(): { write(b: Buffer): void; text(): string } {
  let chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  return {
    write(b) {
      total += b.length;
      chunks.push(b);
      kept += b.length;
      if (kept > OUTPUT_LIMIT * 2) {
        chunks = [Buffer.concat(chunks).subarray(kept - OUTPUT_LIMIT)];
        kept = OUTPUT_LIMIT;
      }
    },
    text() {
      const all = Buffer.concat(chunks);
      const tail = all.subarray(Math.max(0, all.length - OUTPUT_LIMIT)).toString('utf8');
      return total > OUTPUT_LIMIT ? `Captured ${OUTPUT_LIMIT} of ${total} bytes\n...\n${tail}` : tail;
    },
  };
}

function statusOf(code: number | null): ProbeResult['status'] {
  if (code === 0) return 'passing';
  if (code === 1) return 'warning';
  return 'critical';
}

/** Kills the script's whole process group: a script that started helpers must not leave them behind. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Never rejects: a spawn failure, a timeout or an abort is a critical result. */
export function runScriptProbe(args: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  const [file, ...rest] = args;
  if (file === undefined || file === '') return Promise.resolve({ status: 'critical', output: 'script check has no command' });
  return new Promise((resolve) => {
    const out = tailBuffer();
    /** Set when the run ended for another reason than the script's own exit (timeout, abort, spawn failure). */
    let override: ProbeResult | undefined;
    let exitCode: number | null = null;
    let settled = false;
    let drain: NodeJS.Timeout | undefined;
    const child = spawn(file, rest, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drain);
      signal.removeEventListener('abort', onAbort);
      resolve(override ?? { status: statusOf(exitCode), output: out.text() });
    };
    const stopWith = (r: ProbeResult): void => {
      override ??= r;
      killGroup(child.pid);
      // A process that never started has nothing to wait for.
      if (child.pid === undefined) settle();
    };
    const onAbort = (): void => stopWith({ status: 'critical', output: 'check aborted' });
    const timer = setTimeout(() => stopWith({ status: 'critical', output: `Timed out (${formatDuration(timeoutMs)}) running check` }), timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.write(b));
    child.stderr.on('data', (b: Buffer) => out.write(b));
    child.once('error', (err) => {
      override ??= { status: 'critical', output: `failed to run ${file}: ${err.message}` };
      if (child.pid === undefined) settle();
    });
    child.once('exit', (code) => {
      exitCode = code;
      drain = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        settle();
      }, PIPE_DRAIN_MS);
    });
    child.once('close', settle);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
