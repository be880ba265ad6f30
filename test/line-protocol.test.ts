import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';
import { type HttpError, InfluxDB, Point } from '@influxdata/influxdb-client';
import { build, sendJson, type TestApp } from './helpers.js';

const T = Date.UTC(2024, 5, 1, 12); // 2024-06-01T12:00:00Z

async function points(w: TestApp, series: string) {
  const r = await w.request(`/api/v1/query?series=${series}&start=${T - 3_600_000}&end=${T + 3_600_000}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.results[0].points.map((p: { time: string; value: number }) => [Date.parse(p.time), p.value]);
}

const write = (w: TestApp, path: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
  fetch(`${w.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  }).then(async (r) => ({ status: r.status, text: await r.text() }));

test('the official InfluxDB client writes points that Wattline answers, with their tags in the catalog', async (t) => {
  const w = await build(t, { 'ingest.lineProtocolSeriesTags': 'meter' });
  const api = new InfluxDB({ url: w.url, token: w.key }).getWriteApi('home', 'energy', 'ms');
  api.writePoints([
    new Point('power').tag('meter', 'main').tag('room', 'hall').floatField('w', 1234.5).timestamp(new Date(T)),
    new Point('power')
      .tag('meter', 'main')
      .tag('room', 'hall')
      .floatField('w', 1300)
      .timestamp(new Date(T + 60_000)),
    new Point('energy').tag('meter', 'main').intField('wh', 5000).booleanField('online', true).timestamp(new Date(T)),
  ]);
  await api.close();
  assert.deepEqual(await points(w, 'power/main/w'), [
    [T, 1234.5],
    [T + 60_000, 1300],
  ]);
  assert.deepEqual(await points(w, 'energy/main/wh'), [[T, 5000]]);
  assert.deepEqual(await points(w, 'energy/main/online'), [[T, 1]]);
  const hall = await w.request('/api/v1/series?tag.room=hall');
  assert.deepEqual(
    hall.body.series.map((s: { key: string; tags: unknown }) => [s.key, s.tags]),
    [['power/main/w', { meter: 'main', room: 'hall' }]],
  );

  // a bad point: the client sees InfluxDB's 400 with the reason
  const bad = new InfluxDB({ url: w.url, token: w.key }).getWriteApi('home', 'energy', 'ms', { maxRetries: 0 });
  bad.writeRecord(`state,meter=main mode=eco ${T}`);
  await assert.rejects(bad.close(), (err: HttpError) => {
    assert.equal(err.statusCode, 400);
    assert.equal(JSON.parse(err.body ?? '{}').code, 'invalid');
    assert.match(JSON.parse(err.body ?? '{}').message, /^partial write: line 1: .*"eco".* dropped=1$/);
    return true;
  });
});

test('v1 /write: keys in ?u=&p= or basic auth, every precision, gzip bodies, partial writes and errors worded as InfluxDB words them', async (t) => {
  const w = await build(t);
  const s = T / 1000;
  // ?p= (the key as password), precision s, a gzipped body with a comment, a blank line and a line without time
  const body = gzipSync(
    `# meters\n\ngrid,site=a import=1.5,export=0i ${s}\ngrid,site=a import=2.5 ${s + 60}\nclock t=1\n`,
  );
  const r1 = await write(w, `/write?db=home&precision=s&u=telegraf&p=${w.key}`, body, { 'content-encoding': 'gzip' });
  assert.equal(r1.status, 204, r1.text);
  assert.equal(r1.text, '');
  assert.deepEqual(await points(w, 'grid/import'), [
    [T, 1.5],
    [T + 60_000, 2.5],
  ]);
  assert.deepEqual(await points(w, 'grid/export'), [[T, 0]]);
  const clock = (await w.request('/api/v1/series/clock/t/latest')).body;
  assert.ok(
    Math.abs(Date.parse(clock.time) - Date.now()) < 60_000,
    `a line without time takes the server's: ${clock.time}`,
  );

  // basic auth with a user name and the key as password, precision m and h
  const basic = `Basic ${Buffer.from(`telegraf:${w.key}`).toString('base64')}`;
  assert.equal(
    (await write(w, '/write?precision=m', `minutes v=1 ${T / 60_000}`, { authorization: basic })).status,
    204,
  );
  assert.equal(
    (await write(w, '/write?precision=h', `hours v=2 ${T / 3_600_000}`, { authorization: basic })).status,
    204,
  );
  assert.deepEqual(await points(w, 'minutes/v'), [[T, 1]]);
  assert.deepEqual(await points(w, 'hours/v'), [[T, 2]]);

  // a partial write: the good lines stored, the bad ones named, InfluxDB's v1 shape
  const partial = await write(
    w,
    '/write?precision=ms',
    [
      `ok v=1 ${T}`,
      `broken v= ${T}`,
      `text v=2,s="on",n=12x ${T}`,
      `ha value=4,state="on" ${T}`,
      `ok v=3 ${T + 1000}`,
    ].join('\n'),
    { authorization: `Token ${w.key}` },
  );
  assert.equal(partial.status, 400);
  const { error } = JSON.parse(partial.text);
  assert.deepEqual(Object.keys(JSON.parse(partial.text)), ['error']);
  assert.match(error, /^partial write: line 2: .*; line 3: .*"12x".* dropped=2$/);
  assert.deepEqual(await points(w, 'ok/v'), [
    [T, 1],
    [T + 1000, 3],
  ]);
  assert.deepEqual(await points(w, 'text/v'), [], 'a line with a bad value stores nothing');
  assert.deepEqual(await points(w, 'ha/value'), [[T, 4]], 'a string field is left out, the number beside it kept');

  // keys and precision refused as InfluxDB does it
  const none = await write(w, '/write', `x v=1 ${T}`);
  assert.equal(none.status, 401);
  assert.deepEqual(Object.keys(JSON.parse(none.text)), ['error']);
  const wrong = await write(w, '/api/v2/write?org=o&bucket=b', `x v=1 ${T}`, { authorization: 'Token nope' });
  assert.equal(wrong.status, 401);
  assert.deepEqual(JSON.parse(wrong.text), { code: 'unauthorized', message: 'invalid api key' });
  const reader = (await sendJson(w, 'POST', '/api/v1/keys', { scope: 'read' })).key;
  const forbidden = await write(w, '/api/v2/write', `x v=1 ${T}`, { authorization: `Token ${reader}` });
  assert.equal(forbidden.status, 403);
  assert.equal(JSON.parse(forbidden.text).code, 'forbidden');
  const precision = await write(w, '/api/v2/write?precision=h', `x v=1 1`, { authorization: `Token ${w.key}` });
  assert.equal(precision.status, 400);
  assert.match(JSON.parse(precision.text).message, /precision must be one of ns, us, ms, s/);
});

test('what collectors ask before writing: /ping answers 204, CREATE DATABASE succeeds, other InfluxQL is refused saying where to query', async (t) => {
  const w = await build(t);
  const ping = await fetch(`${w.url}/ping`);
  assert.equal(ping.status, 204);
  assert.match(ping.headers.get('x-influxdb-version') ?? '', /Wattline/);
  const auth = { authorization: `Token ${w.key}` };
  const create = await fetch(`${w.url}/query?q=${encodeURIComponent('CREATE DATABASE "telegraf"')}`, {
    method: 'POST',
    headers: auth,
  });
  assert.equal(create.status, 200);
  assert.deepEqual(await create.json(), { results: [{ statement_id: 0 }] });
  const select = await fetch(`${w.url}/query?db=x&q=${encodeURIComponent('SELECT * FROM cpu')}`, { headers: auth });
  assert.equal(select.status, 400);
  assert.match((await select.json()).error, /GET \/api\/v1\/query/);
  assert.equal((await fetch(`${w.url}/query?q=SHOW%20DATABASES`)).status, 401);
  // node-influx (Node-RED) sends the key as ?u=&p= on every request, /query included
  assert.equal((await fetch(`${w.url}/query?q=SHOW%20DATABASES&u=nodered&p=${w.key}`)).status, 200);
  // an empty precision is the default (ns)
  const empty = await fetch(`${w.url}/write?db=x&precision=&p=${w.key}`, {
    method: 'POST',
    body: `e v=1 ${Date.UTC(2024, 5, 1)}000000`,
  });
  assert.equal(empty.status, 204);
});
