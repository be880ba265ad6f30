import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { wattline } from './cli-helpers.js';
import { sglFile } from './files-fixtures.js';
import { build, tempDir } from './helpers.js';

test('wattline files scan|ls scans the watched folders now and prints the ledger', { timeout: 120_000 }, async (t) => {
  const dir = tempDir('wattline-drops-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(
    path.join(dir, 'a.sgl_v2'),
    sglFile({ meterPoint: 'PT01', day: '20240115', kwh: () => 0.5 }),
    'latin1',
  );
  fs.writeFileSync(
    path.join(dir, 'b.sgl_v2'),
    sglFile({ meterPoint: 'PT02', day: '20240115', kwh: () => 0.5, trailerCount: 7 }),
    'latin1',
  );
  const w = await build(t, {
    'files.locations': [{ url: `file://${dir}`, name: 'drops', skip_initial_scan: true }],
    'files.settleMs': 0,
  });
  const run = async (args: string[]) => {
    const r = await wattline([...args, '--url', w.url, '--key', w.key]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const scanned = await run(['files', 'scan']);
  assert.match(scanned, /^drops: 2 listed, 1 ingested, 1 rejected, 0 skipped, 0 pending$/m);
  assert.match(scanned, /ingested {2}a\.sgl_v2 \(96 readings\)/);
  assert.match(scanned, /rejected {2}b\.sgl_v2: line 98: .*7.*96|rejected {2}b\.sgl_v2: line 98: .*96.*7/);
  const rows = (await run(['files', 'ls', '--status', 'rejected']))
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/ {2,}/));
  assert.deepEqual(rows[0], ['location', 'path', 'status', 'readings', 'why', 'processed']);
  assert.deepEqual(
    rows.slice(1).map((r) => r.slice(0, 4)),
    [['drops', 'b.sgl_v2', 'rejected', '0']],
  );
  assert.match(rows[1][4], /^line 98: /);
});
