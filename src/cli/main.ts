// Process entry for bin/connect-dns: wires the CLI to the real process and sets the exit status.
import { isWorker, runWorker } from '../cluster/worker.js';
import { runCli } from './program.js';

process.on('unhandledRejection', (reason) => {
  // Last resort only: every promise in the server is handled; this keeps a bug from killing the process.
  process.stderr.write(`connect-dns: unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}\n`);
});

export async function main(argv: readonly string[]): Promise<void> {
  // The worker pool forks this same entry; a worker serves DNS for its primary and takes no arguments.
  if (isWorker()) {
    await runWorker();
    return;
  }
  try {
    process.exitCode = await runCli(argv.slice(2), {
      stdout: (s) => process.stdout.write(s),
      stderr: (s) => process.stderr.write(s),
    });
  } catch (err) {
    process.stderr.write(`connect-dns: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  }
}
