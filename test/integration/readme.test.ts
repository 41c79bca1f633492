// The README's quick-start output is real: the same digs against examples/quickstart give the same records.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dig, hasDig, parseDig } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Every ```console block: the `$ dig …` commands and the output that follows each. */
function consoleDigs(): { args: string[]; output: string }[] {
  const out: { args: string[]; output: string }[] = [];
  for (const block of readme.matchAll(/```console\n([\s\S]*?)```/g)) {
    const parts = (block[1] ?? '').split(/^\$ /m).filter(Boolean);
    for (const p of parts) {
      const [cmd = '', ...rest] = p.split('\n');
      if (!cmd.startsWith('dig ')) continue;
      out.push({ args: cmd.split(/\s+/).slice(1), output: rest.join('\n') });
    }
  }
  return out;
}

describe('README examples', () => {
  let srv: TestServer;
  let digOk = false;
  before(async () => {
    srv = await startTestServer({ dirs: [fileURLToPath(new URL('../../examples/quickstart/', import.meta.url))] });
    digOk = await hasDig();
  });
  after(() => srv.close());

  const digs = consoleDigs();
  it('shows at least the redis.connect.consul SRV quick start', () => {
    assert.ok(digs.some((d) => d.args.includes('redis.connect.consul') && d.args.includes('SRV')));
  });

  for (const d of digs) {
    it(`dig ${d.args.join(' ')}`, async (t) => {
      if (!digOk) return t.skip('dig is not installed');
      const [, , , name = '', type = '', ...flags] = d.args; // @127.0.0.1 -p 8600 name type flags
      const short = flags.includes('+short');
      const got = await dig(srv.port, name, type);
      if (short) {
        const rdata = got.answer.map((l) => l.split(' ').slice(4).join(' '));
        assert.deepEqual(rdata.sort(), d.output.trim().split('\n').sort());
        return;
      }
      const want = parseDig(d.output);
      assert.equal(got.status, want.status);
      assert.deepEqual(got.flags, want.flags);
      assert.deepEqual([...got.answer].sort(), [...want.answer].sort());
      assert.deepEqual([...got.additional].sort(), [...want.additional].sort());
      assert.equal(got.size, want.size, 'message size');
    });
  }
});
