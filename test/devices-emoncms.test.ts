import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { build, type TestApp, tempDir } from './helpers.js';

// the server's clock: times Emoncms counts from "now" are exact
const NOW = Date.parse('2026-03-01T12:00:00Z');
const NOW_S = NOW / 1000;
const iso = (ms: number) => new Date(ms).toISOString();

const start = (t: Parameters<typeof build>[0]) => build(t, {}, tempDir(), { now: () => NOW });

/** Every point of a series as `time=value`, and its unit, as `/api/v1/query` gives them. */
async function points(w: TestApp, series: string): Promise<{ unit: string | null; points: string[] }> {
  const q = new URLSearchParams({ series, start: iso(NOW - 86_400_000), end: iso(NOW + 86_400_000) });
  const r = await w.request(`/api/v1/query?${q}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const [result] = r.body.results;
  return {
    unit: result.unit,
    points: result.points.map((p: { time: string; value: number }) => `${iso(Date.parse(p.time))}=${p.value}`),
  };
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

test('input/post with fulljson replies {"success":true}; the inputs are stored with their units and registered as sensors', async (t) => {
  const w = await start(t);
  const fulljson = JSON.stringify({ P1: 352.5, E1: 10234, vrms: 241.2, T1: 19.5 });
  const r = await w.request(`/input/post?node=emontx4&fulljson=${encodeURIComponent(fulljson)}`);
  assert.deepEqual([r.status, r.body], [200, { success: true }]);

  assert.deepEqual(await points(w, 'emoncms/emontx4/P1'), { unit: 'W', points: [`${iso(NOW)}=352.5`] });
  assert.deepEqual(await points(w, 'emoncms/emontx4/E1'), { unit: 'Wh', points: [`${iso(NOW)}=10234`] });
  assert.deepEqual(await points(w, 'emoncms/emontx4/vrms'), { unit: 'V', points: [`${iso(NOW)}=241.2`] });

  const sensors = await w.request('/api/v1/sensors/get?limit=100');
  const byId = new Map(
    sensors.body.sensors.map((s: { sensor_id: string; sensor_type: string }) => [s.sensor_id, s.sensor_type]),
  );
  assert.deepEqual(
    ['emoncms_emontx4_P1', 'emoncms_emontx4_E1', 'emoncms_emontx4_vrms', 'emoncms_emontx4_T1'].map((id) =>
      byId.get(id),
    ),
    ['power', 'energy', 'voltage', 'temperature'],
  );
});

test('input/post with the relaxed json form, the node in the path and a time replies ok', async (t) => {
  const w = await start(t);
  const time = NOW_S - 60;
  const r = await w.request(
    `/input/post/emonpi?time=${time}&json=${encodeURIComponent('{power1:100,power2:-20.5,7}')}`,
  );
  assert.deepEqual([r.status, r.body, r.headers.get('content-type')], [200, 'ok', 'text/plain; charset=utf-8']);
  assert.deepEqual((await points(w, 'emoncms/emonpi/power1')).points, [`${iso(time * 1000)}=100`]);
  assert.deepEqual((await points(w, 'emoncms/emonpi/power2')).points, [`${iso(time * 1000)}=-20.5`]);
  // a value without a name is named by its position, as Emoncms does
  assert.deepEqual((await points(w, 'emoncms/emonpi/1')).points, [`${iso(time * 1000)}=7`]);
});

test('input/post with csv names the values 1, 2, 3 and takes the key from ?apikey=', async (t) => {
  const w = await start(t);
  const r = await fetch(`${w.url}/input/post.json?node=house&csv=100,200,300&apikey=${w.key}`);
  assert.deepEqual([r.status, await r.text()], [200, 'ok']);
  for (const [input, value] of [
    ['1', 100],
    ['2', 200],
    ['3', 300],
  ])
    assert.deepEqual((await points(w, `emoncms/house/${input}`)).points, [`${iso(NOW)}=${value}`]);
});

test('input/bulk without a reference: the last frame is now', async (t) => {
  const w = await start(t);
  const data = '[[0,16,1137],[2,17,1437,3164],[4,19,1412,3077]]';
  const r = await w.request(`/input/bulk?data=${encodeURIComponent(data)}`);
  assert.deepEqual([r.status, r.body], [200, 'ok']);
  assert.deepEqual((await points(w, 'emoncms/16/1')).points, [`${iso(NOW - 4000)}=1137`]);
  assert.deepEqual((await points(w, 'emoncms/17/2')).points, [`${iso(NOW - 2000)}=3164`]);
  assert.deepEqual((await points(w, 'emoncms/19/1')).points, [`${iso(NOW)}=1412`]);
});

test('input/bulk with offset: times count from now + offset (Emoncms: with offset=-10, -6 is 16 s ago)', async (t) => {
  const w = await start(t);
  const data = '[[-10,16,1137],[-8,17,1437,3164],[-6,19,1412,3077]]';
  const r = await w.request(`/input/bulk.json?offset=-10&data=${encodeURIComponent(data)}`);
  assert.deepEqual([r.status, r.body], [200, 'ok']);
  assert.deepEqual((await points(w, 'emoncms/19/2')).points, [`${iso(NOW - 16_000)}=3077`]);
  assert.deepEqual((await points(w, 'emoncms/16/1')).points, [`${iso(NOW - 20_000)}=1137`]);
});

test('input/bulk with time: times count from that Unix time', async (t) => {
  const w = await start(t);
  const time = 1387730127;
  const data = '[[-10,16,1137],[-8,17,1437,3164],[-6,19,1412,3077]]';
  const r = await w.request(`/input/bulk?time=${time}&data=${encodeURIComponent(data)}`);
  assert.deepEqual([r.status, r.body], [200, 'ok']);
  // Emoncms's example: -6 is 1387730121
  assert.deepEqual((await points(w, 'emoncms/19/1')).points, []); // far outside the queried day
  const q = await w.request(`/api/v1/query?series=emoncms/19/1&start=1387730000&end=1387730200`);
  assert.deepEqual(
    q.body.results[0].points.map((p: { time: string; value: number }) => [Date.parse(p.time) / 1000, p.value]),
    [[1387730121, 1412]],
  );
});

test('input/bulk as emonhub posts it: a 32-character write key in Authorization, a form body, sentat on a clock 100 s fast', async (t) => {
  // emonhub's HTTP interfacer only sends with a key of exactly 32 characters (a configured one)
  const apikey = 'a3f9c2d17b6e4f0895c1d2e3f4a5b6c7';
  const w = await build(t, { apiKeys: `${apikey}:write` }, tempDir(), { now: () => NOW });
  const sentat = NOW_S + 100; // the sender's clock is 100 s ahead of the server's
  const data = JSON.stringify([
    [sentat - 20, 10, 150, 250],
    [sentat - 10, 10, 151, 251],
  ]);
  const r = await w.request(`/input/bulk.json?sentat=${sentat}`, {
    ...form({ data }),
    headers: { ...form({}).headers, authorization: `Bearer ${apikey}` },
  });
  assert.deepEqual([r.status, r.body], [200, 'ok']);
  assert.deepEqual((await points(w, 'emoncms/10/1')).points, [`${iso(NOW - 20_000)}=150`, `${iso(NOW - 10_000)}=151`]);
  assert.deepEqual((await points(w, 'emoncms/10/2')).points, [`${iso(NOW - 20_000)}=250`, `${iso(NOW - 10_000)}=251`]);
});

test('input/bulk with named values in a zlib-compressed body (emonhub sendnames, cb=1)', async (t) => {
  const w = await start(t);
  const sentat = NOW_S;
  const data = JSON.stringify([[sentat - 5, 'emontx4', { P1: 120, E1: 5400 }, { MSG: 17 }]]);
  const r = await w.request(`/input/bulk.json?sentat=${sentat}&cb=1`, {
    method: 'POST',
    body: zlib.deflateSync(data),
  });
  assert.deepEqual([r.status, r.body], [200, 'ok']);
  assert.deepEqual(await points(w, 'emoncms/emontx4/P1'), { unit: 'W', points: [`${iso(NOW - 5000)}=120`] });
  assert.deepEqual(await points(w, 'emoncms/emontx4/E1'), { unit: 'Wh', points: [`${iso(NOW - 5000)}=5400`] });
  assert.deepEqual(await points(w, 'emoncms/emontx4/MSG'), { unit: null, points: [`${iso(NOW - 5000)}=17`] });
});

test('without a key, or with a wrong one, Emoncms clients get 401 and nothing is stored', async (t) => {
  const w = await start(t);
  const none = await w.request('/input/post?node=x&csv=1', { headers: { authorization: '' } });
  assert.equal(none.status, 401);
  assert.deepEqual([none.body.success, none.body.message], [false, 'no credentials provided']);
  const wrong = await fetch(`${w.url}/input/post?node=x&csv=1&apikey=not-a-key`);
  assert.equal(wrong.status, 401);
  assert.deepEqual(await wrong.json().then((b) => [b.success, b.message]), [false, 'invalid api key']);
  const series = await w.request('/api/v1/series');
  assert.equal(JSON.stringify(series.body).includes('emoncms/x'), false, 'nothing stored');
});

test('a bad value is named in the error and the good ones are stored', async (t) => {
  const w = await start(t);
  const post = await w.request(
    `/input/post?node=emontx&fulljson=${encodeURIComponent('{"P1":100,"P2":"abc","P3":7}')}`,
  );
  assert.equal(post.status, 400);
  assert.equal(post.body.success, false);
  assert.match(post.body.message, /node emontx input P2: "abc" is not a number/);
  assert.deepEqual((await points(w, 'emoncms/emontx/P1')).points, [`${iso(NOW)}=100`]);
  assert.deepEqual((await points(w, 'emoncms/emontx/P3')).points, [`${iso(NOW)}=7`]);

  const bulk = await w.request(`/input/bulk?data=${encodeURIComponent('[[0,5,1,"x",3]]')}`);
  assert.equal(bulk.status, 400);
  assert.match(bulk.body.message, /frame 1 node 5 input 2: "x" is not a number/);
  assert.deepEqual((await points(w, 'emoncms/5/3')).points, [`${iso(NOW)}=3`]);

  const empty = await w.request('/input/post?node=emontx');
  assert.deepEqual([empty.status, empty.body.message], [400, 'Request contains no data via csv, json or data tag']);
  const garbage = await w.request('/input/bulk?data=nope');
  assert.deepEqual([garbage.status, garbage.body.message], [400, 'Format error, json string supplied is not valid']);
});
