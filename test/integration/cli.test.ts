// The real binary: --version, --help, validate (good and bad configs), and serve on an ephemeral port.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dig, hasDig } from '../helpers/dig.js';

const bin = fileURLToPath(new URL('../../bin/connect-dns', import.meta.url));
const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const exec = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('connect-dns CLI', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cdns-cli-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await cli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('--help lists serve and validate, and serve --help lists every flag', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /serve/);
    assert.match(r.stdout, /validate/);
    const s = await cli(['serve', '--help']);
    for (const flag of ['--config-file', '--config-dir', '--client', '--advertise', '--dns-port', '--domain', '--alt-domain',
      '--datacenter', '--node', '--recursor', '--http-port', '--data-dir', '--api-token', '--enable-script-checks', '--log-level', '--log-format']) {
      assert.ok(s.stdout.includes(flag), `serve --help mentions ${flag}`);
    }
  });

  it('validate accepts the bundled quickstart', async () => {
    const r = await cli(['validate', '--config-dir', join(examples, 'quickstart')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /configuration is valid/);
  });

  const bad: { name: string; file: string; body: string; key: RegExp }[] = [
    { name: 'unknown key', file: 'a.json', body: '{"service": {"name": "x", "bogus": 1}}', key: /service\.bogus|bogus/ },
    { name: 'wrong type', file: 'b.json', body: '{"service": {"name": "x", "port": "80"}}', key: /port/ },
    { name: 'JSON syntax error', file: 'c.json', body: '{\n  "service": {\n    "name": "x",,\n  }\n}', key: /c\.json:3/ },
    { name: 'HCL syntax error', file: 'd.hcl', body: 'service {\n  name = "x"\n', key: /d\.hcl:\d+/ },
    { name: 'duplicate ID with the managed proxy', file: 'e.json',
      body: '{"services": [{"name": "redis", "port": 6379, "connect": {"proxy": {}}}, {"name": "redis-proxy", "kind": "connect-proxy", "proxy_destination": "redis", "port": 8181}]}',
      key: /redis-proxy/ },
  ];
  for (const b of bad) {
    it(`validate reports a ${b.name} with file, key and reason, exit 1`, async () => {
      const dir = mkdtempSync(join(tmp, 'bad-'));
      writeFileSync(join(dir, b.file), b.body);
      const r = await cli(['validate', '--config-dir', dir]);
      assert.equal(r.code, 1);
      assert.ok(r.stderr.includes(join(dir, b.file)), `names the file: ${r.stderr}`);
      assert.match(r.stderr, b.key);
      const serve = await cli(['serve', '--config-dir', dir, '--dns-port', '0', '--http-port', '0']);
      assert.equal(serve.code, 1, 'serve refuses to start too');
      assert.ok(serve.stderr.includes(b.file));
    });
  }

  it('serve --dns-port 0 logs every bound address, answers dig, and stops cleanly on SIGTERM', async (t) => {
    const child = spawn(process.execPath, [bin, 'serve', '--config-dir', join(examples, 'quickstart'), '--dns-port', '0', '--http-port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`no start line: ${buf}`)), 15_000);
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        for (const line of buf.split('\n')) {
          if (!line.includes('serving DNS')) continue;
          clearTimeout(timer);
          resolve(JSON.parse(line) as Record<string, unknown>);
        }
      });
    });
    const endpoints = started['dns'] as string[];
    assert.ok(endpoints.some((e) => /^udp:\/\/127\.0\.0\.1:\d+$/.test(e)));
    assert.ok(endpoints.some((e) => /^tcp:\/\/127\.0\.0\.1:\d+$/.test(e)));
    const port = Number(/:(\d+)$/.exec(endpoints[0] ?? '')?.[1]);
    assert.ok(port > 0);
    if (await hasDig()) {
      const r = await dig(port, 'redis.connect.consul', 'SRV');
      assert.equal(r.status, 'NOERROR');
      assert.ok(r.answer.some((l) => / SRV 1 1 8181 /.test(l)), r.text);
    }
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
  });
});
