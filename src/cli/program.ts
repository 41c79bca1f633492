// The commander program: `serve`, `validate`, --version, --help. Never calls process.exit (testable).
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { catalogFromConfig } from '../catalog/from-config.js';
import { loadConfig, type ConfigFlags } from '../config/load.js';
import { CdnsError, ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { startServer } from '../server.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Resolves when `serve` should stop; default: the first SIGINT or SIGTERM. */
  readonly untilStopped?: () => Promise<void>;
  /** Logger override for tests. */
  readonly logger?: (level: string, format: 'json' | 'pretty') => Logger;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

interface SourceOpts { configFile: string[]; configDir: string[] }
interface ServeOpts extends SourceOpts {
  client?: string; advertise?: string; dnsPort?: string; domain?: string; altDomain?: string;
  datacenter?: string; node?: string; recursor: string[]; logLevel?: string; logFormat?: string;
  httpPort?: string; dataDir?: string; apiToken?: string; enableScriptChecks?: boolean; workers?: string;
}

function toFlags(o: ServeOpts): ConfigFlags {
  const flags: { -readonly [K in keyof ConfigFlags]: ConfigFlags[K] } = {};
  if (o.client !== undefined) flags.client = o.client;
  if (o.advertise !== undefined) flags.advertise = o.advertise;
  if (o.dnsPort !== undefined) flags.dnsPort = portFlag('--dns-port', o.dnsPort, false);
  if (o.httpPort !== undefined) flags.httpPort = portFlag('--http-port', o.httpPort, true);
  if (o.dataDir !== undefined) flags.dataDir = o.dataDir;
  if (o.apiToken !== undefined) flags.apiToken = o.apiToken;
  if (o.enableScriptChecks) flags.enableScriptChecks = true;
  if (o.workers !== undefined) flags.workers = /^\d+$/.test(o.workers) ? Number(o.workers) : NaN;
  if (o.domain !== undefined) flags.domain = o.domain;
  if (o.altDomain !== undefined) flags.altDomain = o.altDomain;
  if (o.datacenter !== undefined) flags.datacenter = o.datacenter;
  if (o.node !== undefined) flags.node = o.node;
  if (o.recursor.length > 0) flags.recursors = o.recursor;
  if (o.logLevel !== undefined) flags.logLevel = o.logLevel;
  if (o.logFormat !== undefined) flags.logFormat = o.logFormat;
  return flags;
}

function portFlag(flag: string, text: string, allowDisable: boolean): number {
  if (allowDisable && text === '-1') return -1;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n > 65535) {
    throw new ConfigError('CDNS_ERR_CONFIG_VALUE', { file: '<flags>', key: flag },
      `must be a port number 0-65535${allowDisable ? ' or -1' : ''}, got "${text}"`);
  }
  return n;
}

function addSourceOptions(cmd: Command): Command {
  return cmd
    .option('--config-file <file>', 'a JSON or HCL config file (repeatable)', collect, [])
    .option('--config-dir <dir>', 'a directory of *.json and *.hcl files, read in lexical order (repeatable)', collect, []);
}

/** Runs the CLI; resolves to the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('connect-dns')
    .description('A Consul-compatible, Connect-aware DNS server')
    .version(version(), '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  const serve = addSourceOptions(program.command('serve').description('serve DNS from Consul config files'))
    .option('--client <addr>', 'address(es) to bind, space-separated (default 127.0.0.1)')
    .option('--advertise <ip>', 'the address this node advertises (default 127.0.0.1 on loopback)')
    .option('--dns-port <port>', 'DNS port for UDP and TCP; 0 picks a free port (default 8600)')
    .option('--domain <domain>', 'the DNS domain to serve (default consul.)')
    .option('--alt-domain <domain>', 'a second domain answered like the first')
    .option('--datacenter <dc>', 'datacenter name (default dc1)')
    .option('--node <name>', 'this node\'s name (default the hostname)')
    .option('--recursor <addr[:port]>', 'upstream resolver for names outside the domain (repeatable)', collect, [])
    .option('--http-port <port>', 'HTTP API port; 0 picks a free port, -1 disables the API (default 8500)')
    .option('--data-dir <dir>', 'persist API registrations, TTL check states, prepared queries and proxy ports here')
    .option('--api-token <token>', 'token every API write must carry (like acl.tokens.master)')
    .option('--enable-script-checks', 'run script checks (args); off by default')
    .option('--workers <n>', 'DNS worker processes sharing the ports (default 1)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error']))
    .addOption(new Option('--log-format <format>', 'log format').choices(['json', 'pretty']))
    .action(async (opts: ServeOpts) => {
      exitCode = await serveCommand(opts, io);
    });
  serve.exitOverride();

  addSourceOptions(program.command('validate').description('check config files and exit'))
    .exitOverride()
    .action(async (opts: SourceOpts) => {
      exitCode = await validateCommand(opts, io);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return exitCode;
}

async function serveCommand(opts: ServeOpts, io: CliIo): Promise<number> {
  let loaded;
  let flags: ConfigFlags;
  const sources = { files: opts.configFile, dirs: opts.configDir };
  try {
    flags = toFlags(opts);
    loaded = await loadConfig(sources, flags);
  } catch (err) {
    return reportConfigError(err, io);
  }
  const { config, warnings } = loaded;
  const logger = io.logger ? io.logger(config.logLevel, config.logFormat) : createLogger({ level: config.logLevel, format: config.logFormat });
  for (const w of warnings) logger.warn(w);
  let server;
  try {
    server = await startServer(config, logger, { sources, flags });
  } catch (err) {
    if (err instanceof CdnsError) {
      logger.error({ code: err.code }, err.message);
      io.stderr(`connect-dns: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  // SIGHUP re-reads the config, as a Consul agent does; a bad file keeps the last good catalog serving.
  const running = server;
  const onHup = (): void => void running.reload();
  process.on('SIGHUP', onHup);
  try {
    await (io.untilStopped ?? waitForSignal)();
  } finally {
    process.off('SIGHUP', onHup);
  }
  await server.close();
  logger.flush?.();
  return 0;
}

async function validateCommand(opts: SourceOpts, io: CliIo): Promise<number> {
  try {
    const { config, warnings } = await loadConfig({ files: opts.configFile, dirs: opts.configDir }, {});
    const catalog = catalogFromConfig(config);
    for (const w of warnings) io.stderr(`warning: ${w}\n`);
    io.stdout(`configuration is valid: ${config.files.length} file(s), ${catalog.services.length} service(s), ${catalog.nodes.length + 1} node(s)\n`);
    return 0;
  } catch (err) {
    return reportConfigError(err, io);
  }
}

function reportConfigError(err: unknown, io: CliIo): number {
  if (err instanceof ConfigError) {
    io.stderr(`connect-dns: config error: ${err.message}\n`);
    return 1;
  }
  if (err instanceof CdnsError) {
    io.stderr(`connect-dns: ${err.message}\n`);
    return 1;
  }
  throw err;
}
