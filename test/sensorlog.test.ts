import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { build, until } from './helpers.js';

const events = fs.readFileSync(
  path.join(import.meta.dirname, '..', 'src', 'modules', 'sensorlog', 'testcases', 'events.txt'),
  'utf8',
);
const [line1, line2] = events.split('\n');

test('/log/parse takes a line as text/plain, with no content type, or as a JSON string', async (t) => {
  const w = await build(t);
  for (const [contentType, body] of [
    ['text/plain', line1],
    [undefined, line1],
    ['application/json', JSON.stringify(line1)],
  ] as const) {
    const r = await w.request('/log/parse', {
      method: 'POST',
      headers: contentType ? { 'content-type': contentType } : {},
      body,
    });
    assert.equal(r.status, 200, `${contentType}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.Power.Active, 1753);
    assert.equal(r.body.Line.Phase, -43.841);
  }
  const bad = await w.request('/log/parse', {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'Device:',
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /Device/);
});

test('/log/store keeps good lines, names bad ones by line, and publishes the numbers as readings', async (t) => {
  const w = await build(t);
  const r = await w.request('/log/store', {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: `${line1}\nPower: nonsense\n${line2}\n`,
  });
  assert.equal(r.status, 400);
  assert.equal(r.body.stored, 2);
  assert.equal(r.body.errors[0].line, 2);
  const latest = await w.request('/api/v1/series/sensorlog/1/power_active_w/latest');
  // lines 1 and 2 carry the same second: as readings, the later line's value wins
  assert.equal(latest.body.value, 1800);
  const ok = await w.request('/log/store', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: line1 });
  assert.deepEqual(ok.body, {});
});

test('/log/store takes a parsed event as JSON, also double-encoded, and a single bad event gets {"error"}', async (t) => {
  const w = await build(t);
  const parsed = (
    await w.request('/log/parse', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: line1 })
  ).body;
  for (const body of [JSON.stringify(parsed), JSON.stringify(JSON.stringify(parsed))]) {
    const r = await w.request('/log/store', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.deepEqual(r.body, {});
  }
  const missing = await w.request('/log/store', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Device: { ID: 1 } }),
  });
  assert.equal(missing.status, 400);
  assert.match(missing.body.error, /Power/);
});

test('writes need a write key unless WATTLINE_SENSORLOG_OPEN is on', async (t) => {
  const closed = await build(t);
  assert.equal(
    (
      await closed.request('/log/store', {
        method: 'POST',
        headers: { authorization: '', 'content-type': 'text/plain' },
        body: line1,
      })
    ).status,
    401,
  );
  const open = await build(t, { 'sensorlog.open': true });
  assert.equal(
    (
      await open.request('/log/store', {
        method: 'POST',
        headers: { authorization: '', 'content-type': 'text/plain' },
        body: line1,
      })
    ).status,
    200,
  );
});

test('storing events.txt clusters it off the request path into groups near the ones energy-sensors found', {
  timeout: 120_000,
}, async (t) => {
  const w = await build(t);
  const r = await w.request('/log/store', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: events });
  assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
  const [{ n }] = await w.app.ctx.store.query<{ n: number }>('SELECT count(*) AS n FROM sensor_events');
  assert.equal(n, 1000);
  // 1000 stored events (sensorlog.clusterEvery) start a run in a worker thread
  let clusters: { label: number; count: number; avg_power_active_w: number }[] = [];
  await until(
    async () => (clusters = (await w.request('/clusters/summary')).body.clusters).length > 0,
    60_000,
    'a clustering run',
  );
  const groups = clusters.filter((c) => c.label >= 0);
  assert.ok(groups.length >= 3 && groups.length <= 6, `${groups.length} clusters`);
  assert.equal(
    clusters.reduce((a, c) => a + c.count, 0),
    1000,
  );
  // every cluster's mean active power is near one of SEEDS §5's groups (270, 1230, 1720, 2300, 3590 W)
  const near = (w: number) => [270, 1230, 1720, 2300, 3590].find((g) => Math.abs(w - g) <= g * 0.15);
  for (const c of groups) assert.ok(near(c.avg_power_active_w), `a cluster at ${Math.round(c.avg_power_active_w)} W`);
  for (const g of [270, 1720, 2300])
    assert.ok(
      groups.some((c) => near(c.avg_power_active_w) === g),
      `a cluster near ${g} W`,
    );
  const outliers = await w.request('/api/v1/sensorlog/events?cluster=-1');
  assert.equal(outliers.body.events.length, clusters.find((c) => c.label === -1)?.count ?? 0);
  assert.ok(outliers.body.events.every((e: { cluster: number }) => e.cluster === -1));
});
