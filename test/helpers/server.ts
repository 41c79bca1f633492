// Starts a real connect-dns server in-process on 127.0.0.1 with an ephemeral port, from config files.
import { loadConfig, type ConfigFlags } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createLogSink, type LogSink } from './log-sink.js';

export interface TestServer {
  readonly port: number;
  readonly config: Config;
  readonly server: RunningServer;
  readonly logs: LogSink;
  close(): Promise<void>;
}

export async function startTestServer(opts: {
  dirs?: string[];
  files?: string[];
  flags?: ConfigFlags;
  logLevel?: string;
}): Promise<TestServer> {
  const { config } = await loadConfig(
    { files: opts.files ?? [], dirs: opts.dirs ?? [] },
    { client: '127.0.0.1', dnsPort: 0, ...opts.flags },
    { hostname: 'test-host' },
  );
  const logs = createLogSink(opts.logLevel ?? 'info');
  const server = await startServer(config, logs.logger);
  const udp = server.endpoints.find((e) => e.proto === 'udp');
  if (!udp) throw new Error('no UDP endpoint');
  return { port: udp.port, config, server, logs, close: () => server.close() };
}
