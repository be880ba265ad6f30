import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DATA_INGESTION, type DataIngestionMessage } from '../src/modules/files/index.js';
import { lisbonWinter, sglFile } from './files-fixtures.js';
import { openLive, wsUrl } from './buildings-ws-client.js';
import { buildMode, MODES, sendJson, type TestApp, tempDir } from './helpers.js';

const DAY = '20240115';
const kwh = (i: number) => 0.25 + (i % 8) * 0.5;
const total = (n: number, f: (i: number) => number) =>
  Array.from({ length: n }, (_, i) => f(i)).reduce((a, b) => a + b, 0);

/** The app with one watched folder, scanned only when triggered. */
async function withFolder(t: import('node:test').TestContext, mode: (typeof MODES)[number], settleMs = 0) {
  const dir = tempDir('wattline-drops-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const w = await buildMode(t, mode, {
    'files.locations': [{ url: `file://${dir}`, name: 'drops', interval_s: 86_400, skip_initial_scan: true }],
    'files.settleMs': settleMs,
  });
  if (!w) return undefined;
  const events: DataIngestionMessage[] = [];
  t.after(w.app.ctx.bus.subscribe<DataIngestionMessage>(DATA_INGESTION, (m) => events.push(m)));
  return { w, dir, events };
}

const trigger = (w: TestApp) => sendJson(w, 'POST', '/api/v1/ingestion/trigger', {});
async function ledger(w: TestApp, query = '') {
  const r = await w.request(`/api/v1/ingestion/files${query}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return new Map<string, Record<string, unknown>>(r.body.files.map((f: { path: string }) => [f.path, f]));
}
async function dailySum(w: TestApp, series: string, day: string) {
  const start = lisbonWinter(day, 0);
  const r = await w.request(
    `/api/v1/query?series=${series}&start=${start}&end=${start + 86_400_000 - 1}&window=1d&agg=sum`,
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.results[0].points[0]?.value as number | undefined;
}

for (const mode of MODES)
  test(`a folder's load curves are ingested once, bad files rejected whole with their line (${mode})`, async (t) => {
    const setup = await withFolder(t, mode);
    if (!setup) return;
    const { w, dir, events } = setup;
    fs.writeFileSync(
      path.join(dir, 'PT0001-20240115.sgl_v2'),
      sglFile({ meterPoint: 'PT0002000012345678AB', day: DAY, kwh }),
      'latin1',
    );
    fs.writeFileSync(
      path.join(dir, 'short.sgl_v2'),
      sglFile({ meterPoint: 'PT0002000099999999ZZ', day: DAY, kwh, trailerCount: 95 }),
      'latin1',
    );
    fs.writeFileSync(
      path.join(dir, 'meter.csv'),
      'timestamp;Energy (kWh)\n2024-01-15 00:00;1,5\n2024-01-15 00:30;2,25\n2024-01-15 01:00;0,75\n',
    );
    const first = await trigger(w);
    const scan = first.scans[0];
    assert.equal(scan.error, null);
    assert.deepEqual(scan.ingested.map((f: { path: string }) => f.path).sort(), [
      'PT0001-20240115.sgl_v2',
      'meter.csv',
    ]);
    assert.equal(scan.rejected.length, 1);
    assert.equal(scan.rejected[0].path, 'short.sgl_v2');
    assert.equal(scan.rejected[0].line, 98, 'the trailer line is named');
    assert.match(scan.rejected[0].reason, /95/);
    assert.match(scan.rejected[0].reason, /96/);

    // the good file's readings, summed per day as a user would ask for them, and the meter point as a sensor
    const stored = await dailySum(w, 'files/PT0002000012345678AB', DAY);
    assert.ok(stored !== undefined && Math.abs(stored - total(96, kwh)) < 1e-9, `stored ${stored}`);
    assert.equal(await dailySum(w, 'files/PT0002000099999999ZZ', DAY), undefined, 'nothing of the bad file');
    const sensor = await w.request('/api/v1/sensors/files_PT0002000012345678AB');
    assert.equal(sensor.status, 200, JSON.stringify(sensor.body));
    assert.equal(sensor.body.series, 'files/PT0002000012345678AB');
    const described = await w.request('/api/v1/series/files/PT0002000012345678AB');
    assert.equal(described.body.unit, 'kWh');
    assert.equal(described.body.kind, 'interval');

    // the rejected file moved aside, the ledger says why
    assert.ok(fs.existsSync(path.join(dir, 'rejected', 'short.sgl_v2')));
    const files = await ledger(w);
    assert.equal(files.get('PT0001-20240115.sgl_v2')?.status, 'ingested');
    assert.equal(files.get('PT0001-20240115.sgl_v2')?.readings, 96);
    assert.equal(files.get('short.sgl_v2')?.status, 'rejected');
    assert.equal(files.get('short.sgl_v2')?.line, 98);
    assert.equal((await ledger(w, '?status=rejected')).size, 1);
    const status = await w.request('/api/v1/ingestion/status');
    assert.equal(status.body.locations[0].files_ingested, 2);
    assert.equal(status.body.locations[0].files_rejected, 1);
    assert.ok(status.body.locations[0].last_scan);
    assert.deepEqual(events.map((e) => `${e.path}:${e.status}`).sort(), [
      'PT0001-20240115.sgl_v2:ingested',
      'meter.csv:ingested',
      'short.sgl_v2:rejected',
    ]);

    // a second scan of the unchanged folder does nothing
    const second = (await trigger(w)).scans[0];
    assert.equal(second.ingested.length + second.rejected.length + second.skipped.length + second.pending.length, 0);
    assert.equal(events.length, 3);

    // a copy under another name is skipped, naming the original
    fs.copyFileSync(path.join(dir, 'PT0001-20240115.sgl_v2'), path.join(dir, 'copy.sgl_v2'));
    const third = (await trigger(w)).scans[0];
    assert.equal(third.skipped.length, 1);
    assert.equal(third.skipped[0].duplicate_of, 'drops:PT0001-20240115.sgl_v2');
    assert.equal((await ledger(w)).get('copy.sgl_v2')?.status, 'skipped');

    // a changed file is ingested again and its values replace the old ones
    const doubled = (i: number) => kwh(i) * 2;
    fs.writeFileSync(
      path.join(dir, 'PT0001-20240115.sgl_v2'),
      sglFile({ meterPoint: 'PT0002000012345678AB', day: DAY, kwh: doubled }),
      'latin1',
    );
    const earlier = new Date(Date.now() - 60_000); // a time unlike the last listing's, however fast the test runs
    fs.utimesSync(path.join(dir, 'PT0001-20240115.sgl_v2'), earlier, earlier);
    const fourth = (await trigger(w)).scans[0];
    assert.deepEqual(fourth.ingested, [{ path: 'PT0001-20240115.sgl_v2', readings: 96, replaced: true }]);
    const replaced = await dailySum(w, 'files/PT0002000012345678AB', DAY);
    assert.ok(replaced !== undefined && Math.abs(replaced - total(96, doubled)) < 1e-9, `after the change ${replaced}`);
  });

test('a file still being written waits until two listings agree', async (t) => {
  const setup = await withFolder(t, 'embedded', 60_000);
  if (!setup) return;
  const { w, dir } = setup;
  const file = path.join(dir, 'growing.sgl_v2');
  const whole = sglFile({ meterPoint: 'PT0002000055555555GG', day: DAY, kwh });
  fs.writeFileSync(file, whole.slice(0, 2_000), 'latin1');
  let scan = (await trigger(w)).scans[0];
  assert.deepEqual(
    scan.pending.map((p: { path: string }) => p.path),
    ['growing.sgl_v2'],
    'new and recent: waits',
  );
  fs.appendFileSync(file, whole.slice(2_000), 'latin1');
  scan = (await trigger(w)).scans[0];
  assert.equal(scan.pending.length, 1, 'grew since the last listing: waits again');
  assert.equal((await ledger(w)).get('growing.sgl_v2')?.status, 'pending');
  scan = (await trigger(w)).scans[0];
  assert.deepEqual(scan.ingested, [{ path: 'growing.sgl_v2', readings: 96, replaced: false }]);
});

test('a 50 MB load-curve file is ingested whole with memory growing by less than 50 MB', {
  timeout: 120_000,
}, async (t) => {
  const setup = await withFolder(t, 'embedded');
  if (!setup) return;
  const { w, dir } = setup;
  // a utility's monthly delivery: 50 meter points × 106 days of 96 records of 100 characters, streamed to disk
  const out = fs.createWriteStream(path.join(dir, 'big.sgl_v2'), { encoding: 'latin1' });
  const meters = 50;
  const days = 106;
  let records = 0;
  for (let m = 0; m < meters; m++)
    for (let d = 0; d < days; d++) {
      // April to July: no clock change in Lisbon
      const day = new Date(Date.UTC(2024, 3, 1) + d * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
      const text = sglFile({ meterPoint: `PT${String(m).padStart(8, '0')}`, day, kwh: (i) => (i % 4) / 4 });
      // one header for the whole file, the trailer at the end
      const lines = text.split('\r\n').filter(Boolean);
      const body = (records === 0 ? lines.slice(0, -1) : lines.slice(1, -1)).join('\r\n');
      records += 96;
      if (!out.write(`${body}\r\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
  out.end(`${`99${'TOTAL'.padEnd(20)}${String(records).padStart(10, '0')}`.padEnd(100)}\r\n`);
  await new Promise<void>((r) => out.once('finish', () => r()));
  assert.ok(fs.statSync(path.join(dir, 'big.sgl_v2')).size > 50e6);

  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const scan = (await trigger(w)).scans[0];
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  assert.deepEqual(scan.ingested, [{ path: 'big.sgl_v2', readings: records, replaced: false }], JSON.stringify(scan));
  const growthMb = (peak - before) / 1e6;
  // ~40 MB measured: the readings as one batch (20 bytes each, 10 MB) and DuckDB's transaction for
  // them; a copy of the file, per-chunk read buffers or one DuckDB chunk object per 2,048 rows would
  // each push it over
  assert.ok(growthMb < 50, `RSS grew by ${growthMb.toFixed(1)} MB`);
  const range = `start=${Date.UTC(2024, 2, 31)}&end=${Date.UTC(2024, 7, 1)}`;
  const stored = await w.request(`/api/v1/query?series=files/PT00000049&${range}&window=1d&agg=sum`);
  const sum = stored.body.results[0].points.reduce((a: number, p: { value: number }) => a + p.value, 0);
  assert.ok(Math.abs(sum - days * total(96, (i) => (i % 4) / 4)) < 1e-6, `stored ${sum}`);
});

test('a WebSocket client of /api/v1/ws hears what became of each file', async (t) => {
  const setup = await withFolder(t, 'embedded');
  if (!setup) return;
  const { w, dir } = setup;
  const live = await openLive(wsUrl(w.url));
  t.after(() => live.ws.terminate());
  fs.writeFileSync(path.join(dir, 'one.sgl_v2'), sglFile({ meterPoint: 'PT01', day: DAY, kwh }), 'latin1');
  fs.writeFileSync(
    path.join(dir, 'two.sgl_v2'),
    sglFile({ meterPoint: 'PT02', day: DAY, kwh, trailerCount: 1 }),
    'latin1',
  );
  await trigger(w);
  const frames = await live.until(
    (f) => f.type === 'data_ingestion' && f.path === 'two.sgl_v2',
    'the rejected file',
    10_000,
  );
  const one = frames.find((f) => f.type === 'data_ingestion' && f.path === 'one.sgl_v2');
  assert.equal(one?.status, 'ingested');
  assert.equal(one?.readings, 96);
  const two = frames.at(-1);
  assert.equal(two.status, 'rejected');
  assert.equal(two.line, 98);
});
