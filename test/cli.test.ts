import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { connect, headers } from 'nats';
import { wattline, writeFiles } from './cli-helpers.js';
import { build, type TestApp, until } from './helpers.js';
import { needService, services } from './services.js';

const M = 60_000;
const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

/** The client options pointing the CLI at the in-process app with its admin key. */
const at = (w: TestApp, key = w.key) => ['--url', w.url, '--key', key];

const ndjson = (lines: object[]) => lines.map((l) => JSON.stringify(l)).join('\n') + '\n';

async function points(w: TestApp, series: string, start = T0 - 365 * 24 * H, end = T0 + 365 * 24 * H) {
  const r = await w.request(`/api/v1/query?series=${series}&start=${start}&end=${end}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.results[0].points.map((p: { time: string; value: number }) => [p.time, p.value]);
}

/** Reads the query table back: columns start where their header starts; empty cells are ''. */
function parseTable(text: string): Record<string, string>[] {
  const [header, ...rows] = text.trimEnd().split('\n');
  const names = header.trim().split(/\s+/);
  let from = 0;
  const starts = names.map((name) => (from = header.indexOf(name, from)));
  return rows.map((row) =>
    Object.fromEntries(names.map((name, i) => [name, row.slice(starts[i], starts[i + 1]).trim()])),
  );
}

test('ingesting an NDJSON file reports what was accepted and the readings can be queried', {
  timeout: 60_000,
}, async (t) => {
  const w = await build(t);
  const { file } = writeFiles(t, {
    file: ndjson([
      { series: 'home/meter/power', value: 583.3, ts: T0 },
      { series: 'home/meter/power', value: 590.5, ts: '2024-01-01T00:15:00Z' },
      { series: 'home/solar/power', value: 0, ts: T0 },
    ]),
  });
  const run = await wattline(['ingest', file, ...at(w)]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'accepted 3, invalid 0');
  assert.deepEqual(await points(w, 'home/meter/power'), [
    ['2024-01-01T00:00:00.000Z', 583.3],
    ['2024-01-01T00:15:00.000Z', 590.5],
  ]);
  assert.deepEqual(await points(w, 'home/solar/power'), [['2024-01-01T00:00:00.000Z', 0]]);
});

test('a CSV file with a header and two bad rows exits 1 naming the rows by file line, and keeps the good rows', {
  timeout: 60_000,
}, async (t) => {
  const w = await build(t);
  const { 'meter.csv': file } = writeFiles(t, {
    'meter.csv': [
      'series,ts,value', // line 1
      'csv/meter,2024-01-01T00:00:00Z,1.5', // 2
      'csv/meter,2024-01-01T01:00:00Z,high', // 3: bad value
      'csv/meter,yesterday,3', // 4: bad timestamp
      `csv/meter,${T0 + 2 * H},4`, // 5: epoch ms
      '',
    ].join('\n'),
  });
  const run = await wattline(['ingest', file, ...at(w)]);
  assert.equal(run.code, 1, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'accepted 2, invalid 2');
  assert.match(lines[1], /^ {2}line 3: value is not a finite number/);
  assert.match(
    lines[2],
    /^ {2}line 4: ts must be ISO 8601 \(e.g. 2024-06-01T00:00:00Z\) or an epoch number \(got "yesterday"\)/,
  );
  assert.equal(lines.length, 3);
  assert.deepEqual(await points(w, 'csv/meter'), [
    ['2024-01-01T00:00:00.000Z', 1.5],
    ['2024-01-01T02:00:00.000Z', 4],
  ]);
});

test('ingest - reads the readings from stdin', { timeout: 60_000 }, async (t) => {
  const w = await build(t);
  const input = ndjson([
    { series: 'piped', value: 7, ts: T0 },
    { series: 'piped', value: 8, ts: T0 + M },
  ]);
  const run = await wattline(['ingest', '-', ...at(w)], { input });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'accepted 2, invalid 0');
  assert.deepEqual(await points(w, 'piped'), [
    ['2024-01-01T00:00:00.000Z', 7],
    ['2024-01-01T00:01:00.000Z', 8],
  ]);
});

test('--lines-per-request 2 sends five lines in three requests, stores every good one and names a bad line of the second by its file line', {
  timeout: 60_000,
}, async (t) => {
  const w = await build(t);
  const { file } = writeFiles(t, {
    file: [
      JSON.stringify({ series: 'split', value: 1, ts: T0 }),
      JSON.stringify({ series: 'split', value: 2, ts: T0 + M }),
      JSON.stringify({ series: 'split', value: 3, ts: T0 + 2 * M }),
      JSON.stringify({ series: 'split', value: 'four', ts: T0 + 3 * M }), // line 4: 2nd line of the 2nd request
      JSON.stringify({ series: 'split', value: 5, ts: T0 + 4 * M }),
    ].join('\n'),
  });
  const run = await wattline(['ingest', file, '--lines-per-request', '2', ...at(w)]);
  assert.equal(run.code, 1, run.stderr);
  assert.deepEqual(run.stdout.trimEnd().split('\n'), [
    'accepted 4, invalid 1',
    '  line 4: value is not a finite number',
  ]);
  assert.deepEqual(
    (await points(w, 'split')).map(([, v]: [string, number]) => v),
    [1, 2, 3, 5],
  );
  // the server saw three requests: two whole ones and the one holding the bad line
  const metrics = String((await w.request('/metrics')).body);
  assert.match(metrics, /^ingest_requests_total\{format="ndjson",status="200"\} 2$/m);
  assert.match(metrics, /^ingest_requests_total\{format="ndjson",status="400"\} 1$/m);
});

test('query prints one row per time and one column per series, and --json prints the API answer', {
  timeout: 60_000,
}, async (t) => {
  const w = await build(t);
  await w.ingest([
    { series: 'house', value: 1, ts: T0 },
    { series: 'house', value: 3, ts: T0 + 30 * M },
    { series: 'house', value: 5, ts: T0 + H },
    { series: 'solar', value: 10, ts: T0 + H },
    { series: 'solar', value: 20, ts: T0 + 2 * H + 59 * M },
  ]);
  const args = [
    'query',
    '--series',
    'house,solar',
    '--start',
    '2024-01-01T00:00:00Z',
    '--end',
    String(T0 + 3 * H - 1),
    '--window',
    '1h',
    '--agg',
    'avg',
    ...at(w),
  ];
  const table = await wattline(args);
  assert.equal(table.code, 0, table.stderr);
  assert.deepEqual(table.stdout.trimEnd().split('\n')[0].trim().split(/\s+/), ['time', 'house', 'solar']);
  // house: avg(1, 3) at 00:00 and 5 at 01:00; solar: 10 at 01:00 and 20 at 02:00
  assert.deepEqual(parseTable(table.stdout), [
    { time: '2024-01-01T00:00:00.000Z', house: '2', solar: '' },
    { time: '2024-01-01T01:00:00.000Z', house: '5', solar: '10' },
    { time: '2024-01-01T02:00:00.000Z', house: '', solar: '20' },
  ]);

  const json = await wattline([...args, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const api = await w.request(
    `/api/v1/query?series=house,solar&start=2024-01-01T00:00:00Z&end=${T0 + 3 * H - 1}&window=1h&agg=avg`,
  );
  assert.equal(api.status, 200);
  assert.deepEqual(JSON.parse(json.stdout), api.body);
});

test('keys create --scope read prints a key that can read when reads need a key, but cannot ingest', {
  timeout: 60_000,
}, async (t) => {
  const w = await build(t, { requireReadKey: true });
  await w.ingest([{ series: 'guarded', value: 42, ts: T0 }]);
  const created = await wattline(['keys', 'create', '--scope', 'read', ...at(w)]);
  assert.equal(created.code, 0, created.stderr);
  const key = created.stdout.trim();
  assert.match(key, /^\S{16,}$/);
  assert.notEqual(key, w.key);

  const query = `/api/v1/query?series=guarded&start=${T0}&end=${T0}`;
  assert.equal((await w.request(query, { headers: { authorization: '' } })).status, 401, 'reads need a key');
  const read = await w.request(query, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(read.status, 200);
  assert.deepEqual(read.body.results[0].points, [{ time: '2024-01-01T00:00:00.000Z', value: 42 }]);
  const write = await w.request('/ingest', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
    body: JSON.stringify({ series: 'guarded', value: 1, ts: T0 + 1 }) + '\n',
  });
  assert.equal(write.status, 403);
  assert.match(write.body.error, /scope read/);

  // and through the CLI: the read key queries, but an ingest with it fails loudly
  const cliRead = await wattline([
    'query',
    '--series',
    'guarded',
    '--start',
    String(T0),
    '--end',
    String(T0),
    '--json',
    ...at(w, key),
  ]);
  assert.equal(cliRead.code, 0, cliRead.stderr);
  assert.deepEqual(JSON.parse(cliRead.stdout), read.body);
  const cliWrite = await wattline(['ingest', '-', ...at(w, key)], {
    input: JSON.stringify({ series: 'guarded', value: 1, ts: T0 + 1 }) + '\n',
  });
  assert.equal(cliWrite.code, 1);
  assert.match(cliWrite.stderr, /403.*scope read/);
  assert.deepEqual(await points(w, 'guarded'), [['2024-01-01T00:00:00.000Z', 42]], 'the refused ingest stored nothing');
});

test('keys ls prints id, name, scope, created and last used of each key; keys revoke <id> stops a key at once', {
  timeout: 60_000,
}, async (t) => {
  const w = await build(t, { requireReadKey: true });
  const created = await wattline(['keys', 'create', '--scope', 'read', '--name', 'dashboard', ...at(w)]);
  assert.equal(created.code, 0, created.stderr);
  const key = created.stdout.trim();
  const series = () => w.request('/api/v1/series', { headers: { authorization: `Bearer ${key}` } });
  assert.equal((await series()).status, 200);

  const ls = await wattline(['keys', 'ls', ...at(w)]);
  assert.equal(ls.code, 0, ls.stderr);
  assert.ok(!ls.stdout.includes(key) && !ls.stdout.includes(w.key), 'no key is printed');
  const rows = parseTable(ls.stdout);
  assert.deepEqual(
    rows.map((r) => [r.name, r.scope]),
    [
      ['generated', 'admin'],
      ['dashboard', 'read'],
    ],
  );
  const dashboard = rows[1];
  assert.match(dashboard.id, /^k_[0-9a-f]{12}$/);
  for (const column of ['created', 'last-used'] as const)
    assert.ok(Date.parse(dashboard[column]) <= Date.now(), `${column}: ${dashboard[column]}`);

  const revoked = await wattline(['keys', 'revoke', dashboard.id, ...at(w)]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal(revoked.stdout.trim(), `revoked ${dashboard.id}`);
  assert.equal((await series()).status, 401, 'the revoked key is refused');
  assert.deepEqual(
    parseTable((await wattline(['keys', 'ls', ...at(w)])).stdout).map((r) => r.name),
    ['generated'],
  );

  const generated = await wattline(['keys', 'revoke', 'generated', ...at(w)]);
  assert.equal(generated.code, 1);
  assert.match(generated.stderr, /409.*generated admin key kept in/);
  const byReader = await wattline(['keys', 'ls', ...at(w, key)]);
  assert.equal(byReader.code, 1);
  assert.match(byReader.stderr, /401: invalid api key/);
});

test('dump --date --to writes one gzipped NDJSON blob per day and prints each; --format parquet and --series narrow it', {
  timeout: 60_000,
}, async (t) => {
  const w = await build(t, { 'dumps.timezone': 'UTC' });
  await w.ingest([
    { sensor: 'speed', value: 50, timestamp: '2024-01-01T10:00:00Z' },
    { sensor: 'speed', value: 60, timestamp: '2024-01-02T10:00:00Z' },
    { sensor: 'fuel', value: 40, timestamp: '2024-01-02T11:00:00Z' },
  ]);
  const dir = path.join(w.dataDir, 'dumps');
  const run = await wattline(['dump', '--date', '2024-01-01', '--to', '2024-01-02', ...at(w)]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.stdout.trim().split('\n'), [
    `file://${dir}/2024-01-01.json.gz  1 readings, ${fs.statSync(path.join(dir, '2024-01-01.json.gz')).size} bytes`,
    `file://${dir}/2024-01-02.json.gz  2 readings, ${fs.statSync(path.join(dir, '2024-01-02.json.gz')).size} bytes`,
  ]);
  const lines = gunzipSync(fs.readFileSync(path.join(dir, '2024-01-02.json.gz')))
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines, [
    { sensor: 'speed', value: 60, timestamp: '2024-01-02T10:00:00.000Z' },
    { sensor: 'fuel', value: 40, timestamp: '2024-01-02T11:00:00.000Z' },
  ]);

  const parquet = await wattline(['dump', '--date', '2024-01-02', '--format', 'parquet', '--series', 'fu*', ...at(w)]);
  assert.equal(parquet.code, 0, parquet.stderr);
  assert.match(parquet.stdout, /2024-01-02\.parquet {2}1 readings/);
  assert.equal(fs.readFileSync(path.join(dir, '2024-01-02.parquet')).subarray(0, 4).toString(), 'PAR1');

  const bad = await wattline(['dump', '--date', '2024-13-01', ...at(w)]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /HTTP 400: date must be a date YYYY-MM-DD/);
});

test('a query with a bad parameter exits non-zero and prints the server message naming the parameter', {
  timeout: 60_000,
}, async (t) => {
  const w = await build(t);
  const run = await wattline([
    'query',
    '--series',
    'x',
    '--start',
    String(T0),
    '--end',
    String(T0 + H),
    '--window',
    '2m',
    ...at(w),
  ]);
  assert.notEqual(run.code, 0);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /window must be one of 1m, 5m, 15m, 30m, 1h, 1d \(got "2m"\)/);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
});

test('a query of a mistyped series prints a warning naming the key it may have meant', {
  timeout: 60_000,
}, async (t) => {
  const w = await build(t);
  await w.ingest([{ series: 'home/meter/power', value: 1, ts: T0 }]);
  const run = await wattline([
    'query',
    '--series',
    'home/meter/powr',
    '--start',
    String(T0 / 1000),
    '--end',
    String(T0 / 1000),
    '--precision',
    's',
    ...at(w),
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr.trim(), 'warning: unknown series "home/meter/powr"; did you mean "home/meter/power"?');
});

test('pointing the CLI at a port where nothing listens prints one clear line and exits 1', {
  timeout: 60_000,
}, async (t) => {
  const w = await build(t);
  // a port that was free a moment ago and that nobody listens on now
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const { file } = writeFiles(t, { file: ndjson([{ series: 'lost', value: 1, ts: T0 }]) });
  for (const args of [
    ['ingest', file],
    ['query', '--series', 'lost', '--start', String(T0), '--end', String(T0)],
    ['keys', 'create'],
  ]) {
    const run = await wattline([...args, '--url', url, '--key', w.key]);
    assert.equal(run.code, 1, args[0]);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args[0]}: ${run.stderr}`);
    assert.match(lines[0], new RegExp(`^wattline: no server answers .*127\\.0\\.0\\.1:${port}`), args[0]);
    assert.doesNotMatch(run.stderr, /\bat .*\.(ts|js):\d+/, 'no stack trace');
  }
});

test('dlq ls lists what the bus dead-lettered with its reason; dlq replay <id> puts it back on its topic', {
  timeout: 60_000,
}, async (t) => {
  if (!(await needService(t, 'nats'))) return;
  const prefix = `TEST_CLI_${randomBytes(4).toString('hex').toUpperCase()}`;
  const admin = await connect({ servers: services.nats.url });
  const jsm = await admin.jetstreamManager();
  t.after(async () => {
    for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix}_`)) await jsm.streams.delete(name);
    await admin.close();
  });
  const w = await build(t, { busUrl: services.nats.url, 'bus.stream': prefix });
  const empty = await wattline(['dlq', 'ls', ...at(w)]);
  assert.equal(empty.code, 0, empty.stderr);
  assert.deepEqual(parseTable(empty.stdout), []);

  // a broken reading batch, as a foreign publisher might send: the persistor cannot decode it
  const h = headers();
  h.set('Wattline-Codec', 'reading-batch/1');
  await admin
    .jetstream()
    .publish(`${prefix}.READINGS`, new Uint8Array([0x57, 0x52, 0x42, 1, 5, 0, 0, 0]), { headers: h });
  let rows: Record<string, string>[] = [];
  await until(
    async () => {
      rows = parseTable((await wattline(['dlq', 'ls', '--topic', 'readings', ...at(w)])).stdout);
      return rows.length === 1;
    },
    20_000,
    'the broken batch to be listed',
  );
  assert.equal(rows[0].topic, 'readings');
  assert.equal(rows[0].bytes, '8');
  assert.equal(rows[0].deliveries, '1');
  assert.match(rows[0].reason, /^cannot decode: reading batch is truncated/);

  const replay = await wattline(['dlq', 'replay', rows[0].id, ...at(w)]);
  assert.equal(replay.code, 0, replay.stderr);
  assert.equal(replay.stdout.trim(), 'replayed 1');
  // still undecodable, so it comes back, as a new dead letter: replay moved it, it did not copy it
  await until(
    async () => {
      const again = parseTable((await wattline(['dlq', 'ls', ...at(w)])).stdout);
      return again.length === 1 && again[0].id !== rows[0].id;
    },
    20_000,
    'the replayed batch to be consumed and dead-lettered again',
  );
});
