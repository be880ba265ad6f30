import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { openBlobStore } from '../src/core/blob/index.js';
import { createDumper } from '../src/modules/dumps/dumper.js';
import { startDailyDumps } from '../src/modules/dumps/job.js';
import { build, buildMode, MODES, tempDir, until, type TestApp } from './helpers.js';
import { BUCKET, s3rver } from './s3.js';
import { startServe } from './serve.js';

const SERIES = ['speed', 'fuel', 'location_latitude', 'sensorlog/meter-1/power'];
const FROM = Date.UTC(2026, 2, 27); // 27 March 2026, two days before London's clocks go forward
const TO = Date.UTC(2026, 3, 1);
// the edges of 29 March 2026 in London (00:00 GMT to 00:00 BST, 23 hours) and in UTC
const EDGES = [
  '2026-03-28T23:59:59.999Z',
  '2026-03-29T00:00:00.000Z',
  '2026-03-29T22:59:59.999Z',
  '2026-03-29T23:00:00.000Z',
  '2026-03-29T23:59:59.999Z',
  '2026-03-30T00:00:00.000Z',
];

interface Line {
  sensor: string;
  value: number;
  timestamp: string;
}

/** Every 7 minutes for each series over five days, plus readings on the day's edges; values with fractions. */
function readings(): Line[] {
  const lines: Line[] = [];
  SERIES.forEach((sensor, s) => {
    for (let ts = FROM + s * 60_000; ts < TO; ts += 7 * 60_000)
      lines.push({ sensor, value: ts / 3_600_000 + s / 8 + 0.1, timestamp: new Date(ts).toISOString() });
  });
  for (const [i, timestamp] of EDGES.entries()) lines.push({ sensor: 'speed', value: 1000 + i + 0.25, timestamp });
  return lines;
}

async function seeded(w: TestApp): Promise<Line[]> {
  const lines = readings();
  const r = await w.ingest(lines);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return lines;
}

const key = (l: Line) => `${l.sensor} ${Date.parse(l.timestamp)} ${l.value}`;
const within = (lines: Line[], start: string, end: string) =>
  lines
    .filter((l) => l.timestamp >= start && l.timestamp < end)
    .map(key)
    .sort();

async function dump(w: TestApp, body: Record<string, unknown>) {
  const r = await w.request('/api/v1/dumps', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return r;
}

const dumpsDir = (w: TestApp) => path.join(w.dataDir, 'dumps');
const readNdjson = (file: string): Line[] =>
  gunzipSync(fs.readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

for (const mode of MODES) {
  test(`a day's NDJSON dump holds exactly that day's readings, in Europe/London and in UTC (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    const lines = await seeded(w);

    const london = await dump(w, { date: '2026-03-29', tz: 'Europe/London' });
    assert.equal(london.status, 200, JSON.stringify(london.body));
    const file = path.join(dumpsDir(w), '2026-03-29.json.gz');
    assert.equal(london.body.dumps[0].blob, '2026-03-29.json.gz');
    assert.equal(london.body.dumps[0].url, `file://${file}`);
    const got = readNdjson(file);
    // cloud-lada's line shape, time in UTC with milliseconds
    assert.deepEqual(Object.keys(got[0]), ['sensor', 'value', 'timestamp']);
    assert.match(got[0].timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const expected = within(lines, '2026-03-29T00:00:00.000Z', '2026-03-29T23:00:00.000Z');
    assert.deepEqual(got.map(key).sort(), expected);
    assert.equal(london.body.dumps[0].rows, expected.length);
    assert.equal(london.body.dumps[0].bytes, fs.statSync(file).size);
    // the edges: the day's first millisecond is in, the next day's first is not, nor the day before's last
    assert.ok(got.some((l) => l.timestamp === '2026-03-29T00:00:00.000Z'));
    assert.ok(got.some((l) => l.timestamp === '2026-03-29T22:59:59.999Z'));
    assert.ok(
      !got.some((l) => l.timestamp === '2026-03-28T23:59:59.999Z' || l.timestamp === '2026-03-29T23:00:00.000Z'),
    );
    // in time order
    assert.deepEqual(
      got.map((l) => l.timestamp),
      got.map((l) => l.timestamp).sort(),
    );

    const utc = await dump(w, { date: '2026-03-29', tz: 'UTC' });
    assert.equal(utc.status, 200);
    assert.deepEqual(
      readNdjson(file).map(key).sort(),
      within(lines, '2026-03-29T00:00:00.000Z', '2026-03-30T00:00:00.000Z'),
    );
    // a summer day in London starts at 23:00 UTC the day before
    await dump(w, { date: '2026-03-30', tz: 'Europe/London' });
    assert.deepEqual(
      readNdjson(path.join(dumpsDir(w), '2026-03-30.json.gz'))
        .map(key)
        .sort(),
      within(lines, '2026-03-29T23:00:00.000Z', '2026-03-30T23:00:00.000Z'),
    );
  });
}

test('several days, series patterns, CSV and Parquet (read back by DuckDB)', async (t) => {
  const w = await build(t, { 'dumps.timezone': 'UTC' });
  const lines = await seeded(w);

  const days = await dump(w, { date: '2026-03-28', to: '2026-03-30', series: ['location_*', 'speed'] });
  assert.equal(days.status, 200, JSON.stringify(days.body));
  assert.deepEqual(
    days.body.dumps.map((d: { blob: string }) => d.blob),
    ['2026-03-28.json.gz', '2026-03-29.json.gz', '2026-03-30.json.gz'],
  );
  const kept = lines.filter((l) => l.sensor === 'speed' || l.sensor.startsWith('location_'));
  assert.deepEqual(
    readNdjson(path.join(dumpsDir(w), '2026-03-28.json.gz'))
      .map(key)
      .sort(),
    within(kept, '2026-03-28', '2026-03-29'),
  );

  const csv = await dump(w, { date: '2026-03-29', format: 'csv', series: 'sensorlog/*' });
  assert.equal(csv.body.dumps[0].blob, '2026-03-29.csv.gz');
  const [header, ...rows] = gunzipSync(fs.readFileSync(path.join(dumpsDir(w), '2026-03-29.csv.gz')))
    .toString('utf8')
    .trimEnd()
    .split('\n');
  assert.equal(header, 'sensor,value,timestamp');
  const fromCsv = rows.map((r) => {
    const [sensor, value, timestamp] = r.split(',');
    return { sensor, value: Number(value), timestamp };
  });
  assert.deepEqual(
    fromCsv.map(key).sort(),
    within(
      lines.filter((l) => l.sensor.startsWith('sensorlog/')),
      '2026-03-29',
      '2026-03-30',
    ),
  );

  const parquet = await dump(w, { date: '2026-03-29', format: 'parquet' });
  assert.equal(parquet.body.dumps[0].blob, '2026-03-29.parquet');
  const duck = await DuckDBInstance.create(':memory:');
  const c = await duck.connect();
  t.after(() => {
    c.closeSync();
    duck.closeSync();
  });
  const read = await c.runAndReadAll(
    `SELECT sensor, value, epoch_ms(timestamp) AS ts FROM read_parquet('${path.join(dumpsDir(w), '2026-03-29.parquet')}')`,
  );
  const fromParquet = read.getRowObjectsJS().map((r) => ({
    sensor: r.sensor as string,
    value: r.value as number,
    timestamp: new Date(Number(r.ts)).toISOString(),
  }));
  assert.deepEqual(fromParquet.map(key).sort(), within(lines, '2026-03-29', '2026-03-30'));

  // GET lists what was written, newest day first
  const list = await w.request('/api/v1/dumps');
  assert.equal(list.body.store, `file://${dumpsDir(w)}`);
  assert.deepEqual(
    list.body.dumps.map((d: { date: string; format: string }) => `${d.date} ${d.format}`),
    ['2026-03-30 ndjson', '2026-03-29 csv', '2026-03-29 ndjson', '2026-03-29 parquet', '2026-03-28 ndjson'],
  );
});

test('re-running a day replaces its dump, and no temporary file is left behind', async (t) => {
  const w = await build(t, { 'dumps.timezone': 'UTC' });
  const lines = await seeded(w);
  await dump(w, { date: '2026-03-29' });
  const late = { sensor: 'fuel', value: 12.5, timestamp: '2026-03-29T12:00:30.000Z' };
  const corrected = {
    ...lines.find((l) => l.sensor === 'speed' && l.timestamp.startsWith('2026-03-29T10'))!,
    value: -1,
  };
  await w.ingest([late, corrected]);
  const again = await dump(w, { date: '2026-03-29' });
  const expected = within(
    [
      ...lines.filter(
        (l) => key(l) !== key(lines.find((x) => x.sensor === corrected.sensor && x.timestamp === corrected.timestamp)!),
      ),
      late,
      corrected,
    ],
    '2026-03-29',
    '2026-03-30',
  );
  assert.deepEqual(
    readNdjson(path.join(dumpsDir(w), '2026-03-29.json.gz'))
      .map(key)
      .sort(),
    expected,
  );
  assert.equal(again.body.dumps[0].rows, expected.length);
  assert.deepEqual(fs.readdirSync(dumpsDir(w)), ['2026-03-29.json.gz']);
});

test('an empty day still gets its dump, with no lines', async (t) => {
  const w = await build(t);
  const r = await dump(w, { date: '2020-01-01' });
  assert.equal(r.status, 200);
  assert.equal(r.body.dumps[0].rows, 0);
  assert.deepEqual(readNdjson(path.join(dumpsDir(w), '2020-01-01.json.gz')), []);
});

test('bad dump requests are 400 naming the field; dumping needs an admin key', async (t) => {
  const w = await build(t);
  for (const [body, field] of [
    [{}, 'date'],
    [{ date: '2026-02-30' }, 'date'],
    [{ date: '29/03/2026' }, 'date'],
    [{ date: '2026-03-29', to: '2026-03-28' }, 'to'],
    [{ date: '2020-01-01', to: '2026-01-01' }, 'to'],
    [{ date: '2026-03-29', format: 'xml' }, 'format'],
    [{ date: '2026-03-29', tz: 'Mars/Olympus' }, 'tz'],
    [{ date: '2026-03-29', series: ['speed', 'bad key!'] }, 'series'],
  ] as const) {
    const r = await dump(w, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.field, field, JSON.stringify(r.body));
  }
  const writeKey = (
    await w.request('/api/v1/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'write' }),
    })
  ).body.key;
  const forbidden = await w.request('/api/v1/dumps', {
    method: 'POST',
    headers: { authorization: `Bearer ${writeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ date: '2026-03-29' }),
  });
  assert.equal(forbidden.status, 403);
  assert.equal(
    (await w.request('/api/v1/dumps', { method: 'POST', headers: { authorization: '' }, body: '{}' })).status,
    401,
  );
  assert.equal(fs.existsSync(dumpsDir(w)), false, 'nothing was written');
});

test('the daily job dumps the days missed since its last run, then waits for the hour', async (t) => {
  const w = await build(t, { 'dumps.daily': false });
  const lines = await seeded(w);
  const blobs = openBlobStore('', { dataDir: w.dataDir, s3: w.app.ctx.config.s3 });
  const dumper = createDumper({ store: w.app.ctx.store, readings: w.app.readings, blobs, log: w.app.ctx.log });
  const settings = { hour: 1, zone: 'Europe/London', format: 'ndjson' as const, series: [], catchUpDays: 31 };
  // 10:00 BST on 31 March 2026
  const now = () => Date.parse('2026-03-31T09:00:00Z');

  // a new installation: nothing to catch up on until a first scheduled dump exists
  const first = startDailyDumps(dumper, settings, w.app.ctx.log, now);
  await first.idle();
  await first.stop();
  assert.equal(fs.existsSync(dumpsDir(w)), false);

  await dumper.dump({ ...settings, days: ['2026-03-27'], scheduled: true });
  const job = startDailyDumps(dumper, settings, w.app.ctx.log, now);
  await job.idle();
  await job.stop();
  assert.deepEqual(fs.readdirSync(dumpsDir(w)).sort(), [
    '2026-03-27.json.gz',
    '2026-03-28.json.gz',
    '2026-03-29.json.gz',
    '2026-03-30.json.gz',
  ]);
  // the clock-change day is London's 23 hours
  assert.deepEqual(
    readNdjson(path.join(dumpsDir(w), '2026-03-29.json.gz'))
      .map(key)
      .sort(),
    within(lines, '2026-03-29T00:00:00.000Z', '2026-03-29T23:00:00.000Z'),
  );
  const listed = (await w.request('/api/v1/dumps')).body.dumps;
  assert.ok(
    listed.every((d: { scheduled: boolean; timeZone: string }) => d.scheduled && d.timeZone === 'Europe/London'),
  );
});

test('a dump to s3://bucket/prefix lands in an S3-compatible store, whole and gzipped', async (t) => {
  const s3 = await s3rver(t);
  const w = await build(t, {
    'dumps.url': `s3://${BUCKET}/fleet/dumps`,
    'dumps.timezone': 'UTC',
    's3.endpoint': s3.s3.endpoint,
    's3.accessKeyId': s3.s3.accessKeyId,
    's3.secretAccessKey': s3.s3.secretAccessKey,
  });
  const lines = await seeded(w);
  const r = await dump(w, { date: '2026-03-29' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.dumps[0].url, `s3://${BUCKET}/fleet/dumps/2026-03-29.json.gz`);
  const blobs = s3.open(`s3://${BUCKET}/fleet/dumps`);
  assert.deepEqual(await blobs.list(), ['2026-03-29.json.gz']);
  const body = Buffer.concat(await (await blobs.get('2026-03-29.json.gz')).toArray());
  assert.equal(body.length, r.body.dumps[0].bytes);
  const got = gunzipSync(body)
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
  assert.deepEqual(got.map(key).sort(), within(lines, '2026-03-29', '2026-03-30'));
  assert.equal(fs.existsSync(dumpsDir(w)), false, 'nothing went to the local directory');
});

test('a dump killed half way leaves the previous dump whole under its name', { timeout: 120_000 }, async (t) => {
  const dataDir = tempDir();
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const server = await startServe(dataDir, { env: { WATTLINE_DUMPS_TIMEZONE: 'UTC' } });
  t.after(() => server.child.kill('SIGKILL'));
  const post = (pathname: string, body: string, contentType: string) =>
    fetch(server.url + pathname, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': contentType },
      body,
    });
  const day = Date.UTC(2026, 2, 29);
  await post(
    '/ingest',
    JSON.stringify({ sensor: 'speed', value: 1, timestamp: new Date(day).toISOString() }) + '\n',
    'application/x-ndjson',
  );
  assert.equal((await post('/api/v1/dumps', JSON.stringify({ date: '2026-03-29' }), 'application/json')).status, 200);
  const file = path.join(dataDir, 'dumps', '2026-03-29.json.gz');
  const before = fs.readFileSync(file);

  // a big day, so the next dump takes a while
  const lines: string[] = [];
  for (let i = 0; i < 400_000; i++)
    lines.push(`{"series":"m/${i % 50}","value":${i},"ts":${day + 1 + Math.floor(i / 50) * 10}}`);
  assert.equal((await post('/ingest', lines.join('\n') + '\n', 'application/x-ndjson')).status, 200);
  // Killed as soon as the new dump's temporary file holds some bytes: the dump is then certainly
  // being written. The directory is watched so the kill follows the first write closely; the
  // condition is also checked while waiting, in case a watch event is missed.
  const dir = path.dirname(file);
  let killedWhileWriting: string | undefined;
  const killIfWriting = () => {
    if (killedWhileWriting) return true;
    const part = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('.2026-03-29.json.gz.') && f.endsWith('.part'))
      .map((f) => path.join(dir, f))
      .find((f) => (fs.statSync(f, { throwIfNoEntry: false })?.size ?? 0) > 0);
    if (!part) return false;
    server.child.kill('SIGKILL');
    killedWhileWriting = part;
    return true;
  };
  const watcher = fs.watch(dir, () => killIfWriting());
  t.after(() => watcher.close());
  const dumping = post('/api/v1/dumps', JSON.stringify({ date: '2026-03-29' }), 'application/json').then(
    (r) => r.status,
    () => 'connection lost',
  );
  await until(killIfWriting, 30_000, 'the new dump to be written to its temporary file');
  watcher.close();
  await server.exited;

  // the kill landed mid-dump: the request got no answer, and the writer never renamed its file
  assert.equal(await dumping, 'connection lost');
  assert.ok(fs.existsSync(killedWhileWriting!), "the killed dump's temporary file is still there");
  assert.deepEqual(fs.readFileSync(file), before, 'the previous dump is still there, whole');
  assert.deepEqual(readNdjson(file), [{ sensor: 'speed', value: 1, timestamp: '2026-03-29T00:00:00.000Z' }]);
  assert.ok(
    !fs.readdirSync(dir).some((f) => f.endsWith('.json.gz') && f !== '2026-03-29.json.gz'),
    'no other name looks like a dump',
  );
  // after a restart the dump list still shows the previous dump, not the one that was killed
  const again = await startServe(dataDir, { env: { WATTLINE_DUMPS_TIMEZONE: 'UTC' } });
  t.after(() => again.child.kill('SIGKILL'));
  const list = (await (
    await fetch(`${again.url}/api/v1/dumps`, { headers: { authorization: `Bearer ${server.key}` } })
  ).json()) as { dumps: { date: string; rows: number }[] };
  assert.deepEqual(
    list.dumps.map((d) => ({ date: d.date, rows: d.rows })),
    [{ date: '2026-03-29', rows: 1 }],
  );
});

test('a server with the daily job on catches up at start on the days missed since its last scheduled dump, in its settings', async (t) => {
  const dataDir = tempDir();
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const day = (n: number) => new Date(today - n * 86_400_000).toISOString().slice(0, 10);
  const settings = { 'dumps.timezone': 'UTC', 'dumps.hour': 0, 'dumps.format': 'csv', 'dumps.series': 'speed' };
  // a first run of the server: readings over the last four days, and a scheduled dump of the fourth day back
  const first = await build(t, { ...settings, 'dumps.daily': false }, dataDir);
  await first.ingest(
    [1, 2, 3, 4].flatMap((n) => [
      { sensor: 'speed', value: n, timestamp: `${day(n)}T12:00:00.000Z` },
      { sensor: 'fuel', value: n, timestamp: `${day(n)}T12:00:00.000Z` },
    ]),
  );
  const blobs = openBlobStore('', { dataDir, s3: first.app.ctx.config.s3 });
  await createDumper({ store: first.app.ctx.store, readings: first.app.readings, blobs, log: first.app.ctx.log }).dump({
    days: [day(4)],
    format: 'csv',
    series: [],
    zone: 'UTC',
    scheduled: true,
  });
  await first.app.close();

  const second = await build(t, settings, dataDir);
  // (a run just after midnight UTC may also dump the day that just ended: only these four are checked)
  const dumped = async () =>
    (await second.request('/api/v1/dumps')).body.dumps.filter((d: { date: string }) => d.date <= day(1));
  // a day is noted once its blob is written: wait for the note of the last
  await until(async () => (await dumped()).length === 4, 10_000, 'the missed days to be dumped');
  for (const n of [1, 2, 3]) {
    const csv = gunzipSync(fs.readFileSync(path.join(dataDir, 'dumps', `${day(n)}.csv.gz`))).toString('utf8');
    assert.equal(
      csv,
      `sensor,value,timestamp\nspeed,${n},${day(n)}T12:00:00.000Z\n`,
      'only the series the setting names',
    );
  }
  const listed = await dumped();
  assert.deepEqual(
    listed.map((d: { date: string }) => d.date),
    [day(1), day(2), day(3), day(4)],
  );
  assert.ok(listed.every((d: { scheduled: boolean; format: string }) => d.scheduled && d.format === 'csv'));
});
