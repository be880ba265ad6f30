import assert from 'node:assert/strict';
import fs from 'node:fs';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { test } from 'node:test';
import { build, buildMode, MODES, rawConnection, sampleFile, until } from './helpers.js';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

async function countOf(t: Awaited<ReturnType<typeof build>>, series: string, start = 0, end = Date.UTC(2100, 0, 1)) {
  const r = await t.request(`/api/v1/query?series=${series}&start=${start}&end=${end}&window=1d&agg=count`);
  assert.equal(r.status, 200);
  return r.body.results[0].points.reduce((sum: number, p: { value: number }) => sum + p.value, 0);
}

test('the cloud-lada sample is accepted with basic auth and its content type', async (t) => {
  const w = await build(t);
  const r = await w.request('/ingest', {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from(`${w.key}:`).toString('base64'),
      'content-type': 'application/stream+json',
    },
    body: fs.readFileSync(sampleFile('cloud-lada.ndjson')),
  });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { accepted: 3 });
  const latest = await w.request('/api/v1/series/speed/latest');
  assert.deepEqual(latest.body, { series: 'speed', time: '2012-04-23T18:27:43.511Z', value: 61.9 });
});

for (const mode of MODES)
  test(`series/ts lines with epoch ms or ISO times are accepted as application/x-ndjson with a bearer key (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    const r = await w.ingest([
      { series: 'site/meter:1', value: 1.5, ts: T0 },
      { series: 'site/meter:1', value: 2.5, ts: '2024-01-01T01:00:00+01:00' }, // same instant as T0: replaces it
      { series: 'site/meter:1', value: 3, ts: String(T0 + H) },
    ]);
    assert.deepEqual(r.body, { accepted: 3 });
    const q = await w.request(`/api/v1/query?series=site/meter:1&start=${T0}&end=${T0 + H}`);
    assert.deepEqual(q.body.results[0].points, [
      { time: '2024-01-01T00:00:00.000Z', value: 2.5 },
      { time: '2024-01-01T01:00:00.000Z', value: 3 },
    ]);
  });

test('missing and wrong credentials get the cloud-lada 401 messages and store nothing', async (t) => {
  const w = await build(t);
  const line = JSON.stringify({ series: 'x', value: 1, ts: T0 }) + '\n';
  const none = await w.request('/ingest', {
    method: 'POST',
    headers: { authorization: '', 'content-type': 'application/x-ndjson' },
    body: line,
  });
  assert.equal(none.status, 401);
  assert.equal(none.body.error, 'no credentials provided');
  const wrong = await w.request('/ingest', {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from('nope:').toString('base64'),
      'content-type': 'application/x-ndjson',
    },
    body: line,
  });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error, 'invalid api key');
  const series = await w.request('/api/v1/series');
  assert.deepEqual(series.body.series, []);
});

test('a read-scoped key cannot write', async (t) => {
  const w = await build(t);
  const created = await w.request('/api/v1/keys', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scope: 'read' }),
  });
  assert.equal(created.status, 201);
  const r = await w.request('/ingest', {
    method: 'POST',
    headers: { authorization: `Bearer ${created.body.key}`, 'content-type': 'application/x-ndjson' },
    body: '{"series":"x","value":1,"ts":0}\n',
  });
  assert.equal(r.status, 403);
  assert.match(r.body.error, /scope read/);
});

for (const parseWorkers of [0, 2])
  test(`bad lines are reported by line number and the good lines in the same body are stored (${parseWorkers} parse workers)`, async (t) => {
    const w = await build(t, { 'ingest.parseWorkers': parseWorkers });
    const r = await w.ingest([
      { series: 'ok', value: 1, ts: T0 },
      'not json',
      { series: 'ok', value: 'high', ts: T0 + 1 },
      '',
      { series: 'bad key!', value: 1, ts: T0 },
      { series: 'ok', value: 2, ts: 'yesterday' },
      { value: 2, ts: T0 },
      { series: 'ok', value: 2 },
      '[1,2]',
      { series: 'ok', value: 3, ts: T0 + 2 },
    ]);
    assert.equal(r.status, 400);
    assert.equal(r.body.accepted, 2);
    assert.deepEqual(
      r.body.invalid.map((i: { line: number }) => i.line),
      [2, 3, 5, 6, 7, 8, 9],
    );
    assert.match(r.body.invalid[1].error, /value is not a finite number/);
    assert.match(r.body.invalid[3].error, /ts must be ISO 8601/);
    assert.match(r.body.invalid[4].error, /series \(or sensor\) is missing/);
    assert.equal(await countOf(w, 'ok'), 2);
  });

test('a line longer than the limit is rejected by number and the lines around it are kept', async (t) => {
  const w = await build(t, { 'ingest.maxLineBytes': 100 });
  const long = JSON.stringify({ series: 'x', value: 1, ts: T0, note: 'y'.repeat(500) });
  const r = await w.ingest([{ series: 'x', value: 1, ts: T0 }, long, { series: 'x', value: 2, ts: T0 + 1 }]);
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.invalid, [{ line: 2, error: 'line is longer than 100 bytes' }]);
  assert.equal(r.body.accepted, 2);
});

test('an unsupported content type gets 415 and a gzip body is accepted', async (t) => {
  const w = await build(t);
  const bad = await w.ingest('{"series":"x","value":1,"ts":0}\n', 'text/csv');
  assert.equal(bad.status, 415);
  const body = gzipSync(Buffer.from(`{"series":"z","value":1,"ts":0}\n{"series":"z","value":2,"ts":${T0}}\n`));
  const r = await w.request('/ingest', {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
    body,
  });
  assert.deepEqual(r.body, { accepted: 2 });
  const damaged = await w.request('/ingest', {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
    body: Buffer.from('not gzip at all'),
  });
  assert.equal(damaged.status, 400);
  assert.match(damaged.body.error, /gzip/);
});

async function ingestEncoded(w: Awaited<ReturnType<typeof build>>, encoding: string, body: Uint8Array<ArrayBuffer>) {
  return w.request('/ingest', {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', 'content-encoding': encoding },
    body,
  });
}

const ndjsonLines = (series: string, n: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => `{"series":"${series}","value":${i},"ts":${T0 + i}}\n`).join(''));

test('a gzip body with a bad checksum says how many of its lines were stored', async (t) => {
  const w = await build(t);
  const body = gzipSync(ndjsonLines('crc', 20_000));
  body[body.length - 8] ^= 0xff; // the CRC-32 in the gzip trailer
  const r = await ingestEncoded(w, 'gzip', body);
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'invalid_body');
  assert.match(r.body.error, /gzip body is damaged/);
  // zlib checks the CRC at the end, so (nearly) every line was decoded and stored before the damage showed
  assert.ok(r.body.accepted > 19_000, `accepted ${r.body.accepted}`);
  assert.equal(r.body.accepted, await countOf(w, 'crc'));
});

test('deflate and br bodies are decoded, encodings are matched exactly, and others get 415', async (t) => {
  const w = await build(t);
  const lines = ndjsonLines('enc', 3);
  assert.deepEqual((await ingestEncoded(w, 'deflate', deflateSync(lines))).body, { accepted: 3 });
  assert.deepEqual((await ingestEncoded(w, 'br', brotliCompressSync(lines))).body, { accepted: 3 });
  assert.deepEqual((await ingestEncoded(w, 'GZip', gzipSync(lines))).body, { accepted: 3 });
  assert.deepEqual((await ingestEncoded(w, 'identity', lines)).body, { accepted: 3 });
  assert.deepEqual((await ingestEncoded(w, 'gzip, br', brotliCompressSync(gzipSync(lines)))).body, { accepted: 3 });
  for (const encoding of ['compress', 'not-gzip', 'gzipped']) {
    const r = await ingestEncoded(w, encoding, gzipSync(lines));
    assert.equal(r.status, 415, encoding);
    assert.equal(r.body.code, 'unsupported_encoding');
    assert.equal(r.body.field, 'content-encoding');
    assert.match(r.body.error, new RegExp(`got "${encoding}"`));
  }
});

test('a compressed body that decodes past ingest.maxDecompressedBytes gets 413 saying what was stored', async (t) => {
  const w = await build(t, { 'ingest.maxDecompressedBytes': 1024 ** 2, 'ingest.batchSize': 1000 });
  const lines = ndjsonLines('bomb', 100_000); // about 5 MB, far past the 1 MB cap
  const r = await ingestEncoded(w, 'gzip', gzipSync(lines));
  assert.equal(r.status, 413);
  assert.equal(r.body.code, 'body_too_large');
  assert.ok(r.body.accepted > 0 && r.body.accepted < 100_000, `accepted ${r.body.accepted}`);
  assert.equal(await countOf(w, 'bomb'), r.body.accepted);
});

for (const mode of MODES)
  test(`resending the same file leaves the same number of readings (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    const lines = Array.from({ length: 5000 }, (_, i) => ({
      series: `s${i % 5}`,
      value: i,
      ts: T0 + Math.floor(i / 5) * 60_000,
    }));
    assert.deepEqual((await w.ingest(lines)).body, { accepted: 5000 });
    const before = await countOf(w, 's3');
    assert.equal(before, 1000);
    assert.deepEqual((await w.ingest(lines)).body, { accepted: 5000 });
    assert.equal(await countOf(w, 's3'), 1000);
    const sum = await w.request(`/api/v1/query?series=s3&start=${T0}&end=${T0 + 86_400_000}&window=1d&agg=sum`);
    assert.equal(
      sum.body.results[0].points[0].value,
      lines.filter((l) => l.series === 's3').reduce((a, l) => a + l.value, 0),
    );
    // and after the compactor rewrote the day, still the same
    await w.app.readings.compactNow();
    assert.equal(await countOf(w, 's3'), 1000);
    const catalog = await w.request('/api/v1/series');
    assert.equal(catalog.body.series.find((s: { key: string }) => s.key === 's3').count, 1000);
  });

for (const mode of MODES)
  test(`a corrected value replaces the old one in queries and latest from the moment it is acknowledged (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await w.ingest([
      { series: 'm', value: 10, ts: T0 },
      { series: 'm', value: 20, ts: T0 + H },
    ]);
    const q = `/api/v1/query?series=m&start=${T0}&end=${T0 + H}&window=1d&agg=sum`;
    assert.equal((await w.request(q)).body.results[0].points[0].value, 30); // now cached
    await w.ingest([{ series: 'm', value: 25, ts: T0 + H }]);
    assert.equal((await w.request(q)).body.results[0].points[0].value, 35);
    assert.equal((await w.request('/api/v1/series/m/latest')).body.value, 25);
    await w.ingest([{ series: 'm', value: 11, ts: T0 }]);
    assert.equal((await w.request(q)).body.results[0].points[0].value, 36);
    await w.app.readings.compactNow();
    assert.equal((await w.request(q)).body.results[0].points[0].value, 36);
    assert.equal(
      (await w.request(`/api/v1/query?series=m&start=${T0}&end=${T0 + H}&window=1d&agg=count`)).body.results[0]
        .points[0].value,
      2,
    );
  });

test('a full write queue answers 503 with Retry-After instead of buffering more', async (t) => {
  const w = await build(t, { 'bus.queueLimit': 1000 });
  // hold the store's writer so the first request's rows stay queued
  let release!: () => void;
  const held = w.app.ctx.store.transaction(() => new Promise<void>((resolve) => (release = resolve)));
  t.after(() => release());
  const big = w.ingest(Array.from({ length: 2000 }, (_, i) => ({ series: 'q', value: i, ts: T0 + i })));
  await until(() => w.app.readings.backlogRows() >= 1000);
  const refused = await w.ingest([{ series: 'q', value: 1, ts: T0 - 1 }]);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  release();
  await held;
  assert.deepEqual((await big).body, { accepted: 2000 });
  assert.equal(await countOf(w, 'q'), 2000);
});

test('an NDJSON body that stops arriving gets 408 saying how many of its lines were stored', async (t) => {
  const w = await build(t, { 'http.bodyTimeoutMs': 300, 'ingest.batchSize': 2 });
  const c = rawConnection(w.url);
  const lines = [0, 1, 2, 3].map((i) => `{"series":"slow","value":${i},"ts":${T0 + i}}\n`).join('');
  c.socket.write(
    `POST /ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${w.key}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n${lines}`,
  );
  await c.closedByServer();
  assert.equal(c.status(), 408);
  assert.deepEqual(c.body(), { error: c.body().error, code: 'request_timeout', accepted: 4 });
  const q = await w.request(`/api/v1/query?series=slow&start=${T0}&end=${T0 + 3_600_000}&window=1d&agg=count`);
  assert.equal(q.body.results[0].points[0].value, 4);
});

test('a body in flight when the write queue fills stops being read and answers 503 at once, not at its end', async (t) => {
  const w = await build(t, { 'bus.queueLimit': 1000, 'ingest.batchSize': 1000 });
  let release!: () => void;
  const held = w.app.ctx.store.transaction(() => new Promise<void>((resolve) => (release = resolve)));
  t.after(() => release());
  const c = rawConnection(w.url);
  const line = (i: number) => `{"series":"inflight","value":${i},"ts":${T0 + i}}\n`;
  // a body announced as 10 MB: its first 1,000 lines fill the queue while the store is held
  c.socket.write(
    `POST /ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${w.key}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 10000000\r\n\r\n`,
  );
  c.socket.write(Array.from({ length: 1000 }, (_, i) => line(i)).join(''));
  await until(() => w.app.readings.backlogRows() >= 1000, 10_000, 'the first batch to be queued');
  c.socket.write(line(1000));
  await c.closedByServer();
  assert.equal(c.status(), 503);
  assert.match(c.state.text, /retry-after: 1/i);
  release();
  await held;
});

test('epoch seconds are stored as seconds, precision= sets the unit, and a bad precision is a 400 naming it', async (t) => {
  const w = await build(t);
  const june = Date.UTC(2024, 5, 1);
  assert.deepEqual((await w.ingest([{ series: 'sec', value: 1, ts: 1717200000 }])).body, { accepted: 1 });
  const latest = await w.request('/api/v1/series/sec/latest');
  assert.equal(latest.body.time, '2024-06-01T00:00:00.000Z');

  const ms = await w.request('/ingest?precision=ms', {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: `{"series":"prec","value":1,"ts":${june}}\n{"series":"prec","value":2,"ts":1717200000}\n`,
  });
  assert.equal(ms.status, 200);
  const q = await w.request(`/api/v1/query?series=prec&start=0&end=${june}`);
  assert.deepEqual(q.body.results[0].points, [
    { time: '1970-01-20T21:00:00.000Z', value: 2 },
    { time: '2024-06-01T00:00:00.000Z', value: 1 },
  ]);

  const bad = await w.request('/ingest?precision=sec', {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: `{"series":"prec","value":1,"ts":${june}}\n`,
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.field, 'precision');
  assert.match(bad.body.error, /precision must be one of s, ms, us, ns/);

  const small = await w.ingest([{ series: 'prec', value: 1, ts: 1000 }]);
  assert.equal(small.status, 400);
  assert.equal(small.body.invalid[0].line, 1);
  assert.match(small.body.invalid[0].error, /has 4 digits, which is no epoch unit/);
});

test('a reading far in the future or before ingest.minTime is refused by line and the good lines are stored', async (t) => {
  const w = await build(t, { 'ingest.minTime': '2000-01-01T00:00:00Z' });
  const r = await w.ingest([
    { series: 'future', value: 1, ts: T0 },
    { series: 'future', value: 2, ts: '9999-12-31T00:00:00Z' },
    { series: 'future', value: 3, ts: '1999-06-01' },
    { series: 'future', value: 4, ts: '2023-02-29T00:00:00Z' },
    { series: 'future', value: 5, ts: T0 + H },
  ]);
  assert.equal(r.status, 400);
  assert.equal(r.body.accepted, 2);
  assert.deepEqual(r.body.invalid, [
    { line: 2, error: 'ts 9999-12-31T00:00:00.000Z is more than 730 days in the future (ingest.maxFutureMs)' },
    { line: 3, error: 'ts 1999-06-01T00:00:00.000Z is before 2000-01-01T00:00:00.000Z (ingest.minTime)' },
    { line: 4, error: 'ts "2023-02-29T00:00:00Z" is not a real time: 2023-02 has no day 29 (it has 28 days)' },
  ]);
  assert.equal(await countOf(w, 'future'), 2);
  const status = await w.request('/api/status');
  assert.equal(status.body.lastIngestTimestamp, new Date(T0 + H).toISOString());
});

test('ingest.minTime is checked at start', async (t) => {
  await assert.rejects(build(t, { 'ingest.minTime': '2024-02-30' }), /ingest\.minTime/);
});

const jsonItems = [
  { series: 'j', value: 1, ts: T0 },
  { series: 'j', value: 2, ts: T0 + H },
];

for (const parseWorkers of [0, 2])
  test(`application/json bodies (an array, one object, NDJSON) and text/plain NDJSON are accepted (${parseWorkers} parse workers)`, async (t) => {
    const w = await build(t, { 'ingest.parseWorkers': parseWorkers });
    const send = (body: string, type: string) =>
      w.request('/ingest', { method: 'POST', headers: { 'content-type': type }, body });
    assert.deepEqual((await send(JSON.stringify(jsonItems, null, 2), 'application/json')).body, { accepted: 2 });
    assert.deepEqual((await send(JSON.stringify(jsonItems[0]), 'application/json; charset=utf-8')).body, {
      accepted: 1,
    });
    const ndjson = jsonItems.map((i) => JSON.stringify(i)).join('\n');
    assert.deepEqual((await send(ndjson, 'application/json')).body, { accepted: 2 });
    assert.deepEqual((await send(ndjson, 'text/plain; charset=UTF-8')).body, { accepted: 2 });
    assert.equal(await countOf(w, 'j'), 2);

    const bad = await send(JSON.stringify([jsonItems[0], { series: 'j', value: 'x', ts: T0 }]), 'application/json');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { accepted: 1, invalid: [{ item: 2, error: 'value is not a finite number' }] });
  });

test('a body with no or another Content-Type gets 415 naming the accepted types', async (t) => {
  const w = await build(t);
  const line = `{"series":"x","value":1,"ts":${T0}}\n`;
  for (const type of [undefined, 'text/csv', 'application/xml', 'nonsense']) {
    const r = await w.request('/ingest', {
      method: 'POST',
      headers: type ? { 'content-type': type } : {},
      body: type ? line : new Blob([line]), // a Blob without a type: fetch sends no Content-Type
    });
    assert.equal(r.status, 415, String(type));
    assert.equal(r.body.code, 'unsupported_media_type');
    assert.equal(r.body.field, 'content-type');
    assert.match(r.body.error, /application\/x-ndjson, application\/stream\+json, text\/plain .*application\/json/);
  }
  const anonymous = await w.request('/ingest', {
    method: 'POST',
    headers: { authorization: '', 'content-type': 'text/csv' },
    body: line,
  });
  assert.equal(anonymous.status, 401, 'the key is checked first');
  const latin1 = await w.request('/ingest', {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=iso-8859-1' },
    body: line,
  });
  assert.equal(latin1.status, 415);
  assert.match(latin1.body.error, /charset/);
});
