// Every invalid value class at start, in JSON and in HCL: stable code, file and key path, and a reason.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { BAD, BASE, baseConfig, FAULTS, FORMATS, WARNINGS, writeConfig, type Format } from '../helpers/config-faults.js';

async function caseDir(t: TestContext, bad: Record<string, unknown>, format: Format): Promise<{ dir: string; badFile: string; baseFile: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdns-faults-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const baseFile = writeConfig(dir, BASE, baseConfig(8080), format);
  const badFile = writeConfig(dir, BAD, bad, format);
  return { dir, badFile, baseFile };
}

/** What `validate` does: load, then build the catalog (where IDs are checked). */
async function validate(dir: string) {
  const loaded = await loadConfig({ files: [], dirs: [dir] }, {}, { hostname: 'test-host' });
  catalogFromConfig(loaded.config);
  return loaded;
}

describe('config faults at start', () => {
  it('the base config alone is valid in both formats', async (t) => {
    for (const format of FORMATS) {
      const { dir } = await caseDir(t, {}, format);
      const { config } = await validate(dir);
      assert.equal(config.services[0]?.port, 8080);
    }
  });

  for (const c of FAULTS) {
    for (const format of FORMATS) {
      it(`${c.class}: ${c.name} (${format})`, async (t) => {
        const { dir, badFile, baseFile } = await caseDir(t, c.bad, format);
        const file = c.file === BASE ? baseFile : badFile;
        await assert.rejects(validate(dir), (err: unknown) => {
          assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
          assert.equal(err.code, c.code, err.message);
          assert.equal(err.location.file, file, err.message);
          assert.equal(err.location.key, c.key, err.message);
          assert.match(err.reason, c.reason);
          // The one line a user reads names all three.
          assert.ok(err.message.startsWith(file) && err.message.includes(` ${c.key}: `), err.message);
          return true;
        });
      });
    }
  }

  for (const w of WARNINGS) {
    for (const format of FORMATS) {
      it(`undiscoverable name: ${w.name} (${format}) loads with a warning naming file and key`, async (t) => {
        const { dir, badFile } = await caseDir(t, w.bad, format);
        const { warnings } = await validate(dir);
        const mine = warnings.filter((l) => l.startsWith(`${badFile}: ${w.key}: `));
        assert.equal(mine.length, 1, warnings.join('\n'));
        assert.match(mine[0] ?? '', w.reason);
      });
    }
  }
});
