import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startWattline, wattline, writeFiles } from './cli-helpers.js';
import { build, type TestApp } from './helpers.js';

const M = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const T0_S = T0 / 1000; // 1704067200: ten digits, epoch seconds

const at = (w: TestApp) => ['--url', w.url, '--key', w.key];
const iso = (ms: number) => new Date(ms).toISOString();

async function points(w: TestApp, series: string, start = T0 - 366 * 86_400_000, end = T0 + 366 * 86_400_000) {
  const r = await w.request(`/api/v1/query?series=${series}&start=${start}&end=${end}&precision=ms`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.results[0].points.map((p: { time: string; value: number }) => [p.time, p.value]);
}

/** A stand-in server that answers every ingest with `accepted` and records what it was sent. */
async function recordingServer(t: TestContext) {
  const requests: { url: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      requests.push({ url: req.url ?? '', body });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ accepted: body.split('\n').filter(Boolean).length }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests };
}

test('--precision s is sent as ?precision=s on every request, and CSV epoch digits go to the server as written', {
  timeout: 60_000,
}, async (t) => {
  const server = await recordingServer(t);
  const { 'sec.csv': file } = writeFiles(t, {
    'sec.csv': `series,ts,value\nsec,${T0_S},1\nsec,${T0_S + 60},2\nsec,${T0_S + 120},3\n`,
  });
  const run = await wattline(['ingest', file, '--precision', 's', '--lines-per-request', '2', '--url', server.url]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'accepted 3, invalid 0');
  assert.deepEqual(
    server.requests.map((r) => r.url),
    ['/ingest?precision=s', '/ingest?precision=s'],
  );
  assert.equal(server.requests[0].body.split('\n')[0], `{"series":"sec","ts":"${T0_S}","value":1}`);

  const plain = await wattline(['ingest', file, '--url', server.url]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(server.requests[2].url, '/ingest', 'no precision: the server reads the number of digits');

  const bad = await wattline(['ingest', file, '--precision', 'h', '--url', server.url]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--precision.*s, ms, us, ns/);
});

// 999999999 has nine digits: the digit rule refuses it; only --precision s (the server's side of it) reads it
const EARLY_S = 999_999_999;

test('a CSV file of epoch seconds is stored at the right times, with and without --precision s', {
  timeout: 60_000,
}, async (t) => {
  const w = await build(t);
  const csv = (series: string) =>
    `series,ts,value\n${series},${T0_S},1\n${series},${T0_S + 60},2\n${series},${EARLY_S},3\n`;
  const { digits, flag } = writeFiles(t, { digits: csv('sec-digits'), flag: csv('sec-flag') });

  const byDigits = await wattline(['ingest', digits, ...at(w)]);
  assert.equal(byDigits.code, 1, byDigits.stderr);
  assert.match(byDigits.stdout, /^accepted 2, invalid 1\n {2}line 4: /);
  assert.deepEqual(await points(w, 'sec-digits'), [
    [iso(T0), 1],
    [iso(T0 + M), 2],
  ]);

  const bySetting = await wattline(['ingest', flag, '--precision', 's', ...at(w)]);
  assert.equal(bySetting.code, 0, bySetting.stdout + bySetting.stderr);
  assert.deepEqual(await points(w, 'sec-flag', EARLY_S * 1000), [
    [iso(EARLY_S * 1000), 3],
    [iso(T0), 1],
    [iso(T0 + M), 2],
  ]);
});

test('CSV columns are read by the header in any order, under the names Wattline writes and their synonyms; no header means series,ts,value', {
  timeout: 60_000,
}, async (t) => {
  const w = await build(t);
  const files = writeFiles(t, {
    'dump.csv': `sensor,value,timestamp\nh-dump,1.5,${iso(T0)}\n`,
    'time.csv': `time,value,sensor\n${iso(T0)},2.5,h-time\n`,
    'plain.csv': `h-plain,${iso(T0)},3.5\n`,
  });
  for (const file of Object.values(files)) {
    const run = await wattline(['ingest', file, ...at(w)]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.stdout.trim(), 'accepted 1, invalid 0', file);
  }
  assert.deepEqual(await points(w, 'h-dump'), [[iso(T0), 1.5]]);
  assert.deepEqual(await points(w, 'h-time'), [[iso(T0), 2.5]]);
  assert.deepEqual(await points(w, 'h-plain'), [[iso(T0), 3.5]]);
});

test('CSV or NDJSON is told by the content, not the file name; stdin and gzip (file or stdin) work for both', {
  timeout: 60_000,
}, async (t) => {
  const w = await build(t);
  const csv = (series: string) => `series,ts,value\n${series},${iso(T0)},1\n${series},${iso(T0 + M)},2\n`;
  const ndjson = (series: string) =>
    `\n  ${JSON.stringify({ series, ts: iso(T0), value: 1 })}\n${JSON.stringify({ series, ts: iso(T0 + M), value: 2 })}\n`;
  const files = writeFiles(t, {
    'ndjson-named.csv': ndjson('c-ndjson-named-csv'),
    'csv-named.ndjson': csv('c-csv-named-ndjson'),
    'csv.gz': gzipSync(csv('c-csv-gz')),
    'ndjson.data': gzipSync(ndjson('c-ndjson-gzip-no-extension')),
  });
  const runs: [string, string[], string | Buffer | undefined][] = [
    ...Object.values(files).map((file): [string, string[], undefined] => [file, ['ingest', file], undefined]),
    ['c-csv-stdin', ['ingest', '-'], csv('c-csv-stdin')],
    ['c-csv-gzip-stdin', ['ingest', '-'], gzipSync(csv('c-csv-gzip-stdin'))],
    ['c-ndjson-gzip-stdin', ['ingest', '-'], gzipSync(ndjson('c-ndjson-gzip-stdin'))],
  ];
  for (const [what, args, input] of runs) {
    const run = await wattline([...args, ...at(w)], { input });
    assert.equal(run.code, 0, `${what}: ${run.stdout}${run.stderr}`);
    assert.equal(run.stdout.trim(), 'accepted 2, invalid 0', what);
  }
  for (const series of [
    'c-ndjson-named-csv',
    'c-csv-named-ndjson',
    'c-csv-gz',
    'c-ndjson-gzip-no-extension',
    'c-csv-stdin',
    'c-csv-gzip-stdin',
    'c-ndjson-gzip-stdin',
  ])
    assert.deepEqual(
      await points(w, series),
      [
        [iso(T0), 1],
        [iso(T0 + M), 2],
      ],
      series,
    );
});

test('a day dumped as CSV and as NDJSON (gzipped) ingests into a fresh server as the same readings', {
  timeout: 90_000,
}, async (t) => {
  const source = await build(t, { 'dumps.timezone': 'UTC' });
  const lines: object[] = [];
  for (const [s, series] of ['rt/meter/power', 'rt/solar/power', 'speed'].entries())
    for (let ts = T0 + s * 1000; ts < T0 + 86_400_000; ts += 13 * M)
      lines.push({ series, ts, value: ts / 1e7 + s / 3 });
  lines.push({ series: 'speed', ts: T0 + 86_400_000 - 1, value: -0.125 }, { series: 'speed', ts: T0 - 1, value: 9 });
  assert.equal((await source.ingest(lines)).status, 200);
  const dayOf = async (w: TestApp) => {
    const all: Record<string, unknown> = {};
    for (const s of ['rt/meter/power', 'rt/solar/power', 'speed']) all[s] = await points(w, s, T0, T0 + 86_400_000 - 1);
    return all;
  };
  const expected = await dayOf(source);
  assert.equal((expected.speed as unknown[]).length, 112);

  for (const format of ['csv', 'ndjson']) {
    const r = await source.request('/api/v1/dumps', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ date: '2024-01-01', format }),
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const file = path.join(source.dataDir, 'dumps', format === 'csv' ? '2024-01-01.csv.gz' : '2024-01-01.json.gz');
    assert.ok(fs.existsSync(file), file);

    const target = await build(t);
    const run = await wattline(['ingest', file, ...at(target)]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.stdout.trim(), `accepted ${lines.length - 1}, invalid 0`, format);
    assert.deepEqual(await dayOf(target), expected, format);
  }
});

test('Ctrl-C during an ingest prints what was acknowledged and the --skip that resumes it; the resumed ingest stores the rest, each line once', {
  timeout: 90_000,
}, async (t) => {
  const w = await build(t);
  const N = 30_000;
  const rows = ['series,ts,value']; // line 1: the header
  for (let i = 1; i <= N; i++) {
    rows.push(`big,${T0 + i * M},${i}`);
    if (i === 15_000) rows.push(''); // a blank line counts as a line of the file
  }
  const { 'big.csv': file } = writeFiles(t, { 'big.csv': rows.join('\n') + '\n' });

  // a proxy that passes the first request on and holds the second: the CLI has the first answer by then
  let requests = 0;
  let secondArrived: () => void = () => undefined;
  const second = new Promise<void>((resolve) => (secondArrived = resolve));
  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', async () => {
      if (++requests > 1) return secondArrived(); // held: never answered
      const r = await fetch(w.url + req.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${w.key}`, 'content-type': 'application/x-ndjson' },
        body: Buffer.concat(chunks),
      });
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    proxy.closeAllConnections();
    proxy.close();
  });
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;

  const running = startWattline(['ingest', file, '--lines-per-request', '10000', '--url', proxyUrl, '--key', w.key]);
  await second;
  running.child.kill('SIGINT');
  const interrupted = await running.done;
  assert.equal(interrupted.code, 130, interrupted.stderr);
  assert.equal(
    interrupted.stderr.trim(),
    'interrupted: 10001 lines acknowledged (file lines 1–10001); resume with --skip 10001',
  );
  assert.equal((await points(w, 'big')).length, 10_000);

  const skip = /--skip (\d+)/.exec(interrupted.stderr)![1];
  const resumed = await wattline(['ingest', file, '--skip', skip, ...at(w)]);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.equal(resumed.stdout.trim(), `accepted ${N - 10_000}, invalid 0`);
  const stored = await points(w, 'big');
  assert.equal(stored.length, N);
  assert.deepEqual(
    stored.map(([, v]: [string, number]) => v),
    Array.from({ length: N }, (_, i) => i + 1),
  );
});
