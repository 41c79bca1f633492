// A worker's entry when the pool is told to run it directly (tests under tsx); the CLI reaches runWorker itself.
import { runWorker } from './worker.js';

await runWorker();
