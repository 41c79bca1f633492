// Starts a real connect-dns server in-process on 127.0.0.1 with an ephemeral port, from config files.
import { loadConfig, type ConfigFlags } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createLogSink, type LogSink } from './log-sink.js';

export interface TestServer {
  readonly port: number;
  /** The HTTP API's port (-1 when disabled). */
  readonly httpPort: number;
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
  /** Watch the config sources for changes (default false: tests call reload() or opt in). */
  watch?: boolean;
}): Promise<TestServer> {
  const sources = { files: opts.files ?? [], dirs: opts.dirs ?? [] };
  // Ephemeral ports for DNS and the HTTP API, so tests never collide with each other or a running server.
  const flags: ConfigFlags = { client: '127.0.0.1', dnsPort: 0, httpPort: 0, ...opts.flags };
  const { config } = await loadConfig(sources, flags, { hostname: 'test-host' });
  const logs = createLogSink(opts.logLevel ?? 'info');
  const server = await startServer(config, logs.logger, { sources, flags, watch: opts.watch ?? false });
  const udp = server.endpoints.find((e) => e.proto === 'udp');
  if (!udp) throw new Error('no UDP endpoint');
  return { port: udp.port, httpPort: server.http[0]?.port ?? -1, config, server, logs, close: () => server.close() };
}
