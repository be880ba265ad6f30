import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { build, sampleFile } from './helpers.js';

test('with an empty store the cloud-lada endpoints answer zeros and no last ingest', async (t) => {
  const w = await build(t);
  assert.deepEqual((await w.request('/api/statistics/latest')).body, {
    speed: 0,
    fuel: 0,
    engineTemperature: 0,
    revolutions: 0,
  });
  assert.deepEqual((await w.request('/api/location/latest')).body, { latitude: 0, longitude: 0 });
  assert.deepEqual((await w.request('/api/status')).body, { lastIngestTimestamp: null });
  const day = (await w.request('/api/statistics/sensor/speed/date/2024-01-01')).body;
  assert.equal(day.length, 96);
  assert.ok(day.every((b: { value: number }) => b.value === 0));
});

test('latest values, location, status and a day in 96 fifteen-minute averages', async (t) => {
  const w = await build(t);
  await w.ingest(fs.readFileSync(sampleFile('cloud-lada.ndjson'), 'utf8')); // speed 55.5, 60.2, 61.9 at 18:25:43–18:27:43
  await w.ingest([
    { sensor: 'fuel', value: 41, timestamp: '2012-04-23T18:20:00Z' },
    { sensor: 'engine_temperature', value: 88, timestamp: '2012-04-23T18:21:00Z' },
    { sensor: 'revolution', value: 2400, timestamp: '2012-04-23T18:22:00Z' },
    { sensor: 'location_latitude', value: 55.75, timestamp: '2012-04-23T18:22:00Z' },
    { sensor: 'location_longitude', value: 37.62, timestamp: '2012-04-23T18:22:00Z' },
  ]);
  assert.deepEqual((await w.request('/api/statistics/latest')).body, {
    speed: 61.9,
    fuel: 41,
    engineTemperature: 88,
    revolutions: 2400,
  });
  assert.deepEqual((await w.request('/api/location/latest')).body, { latitude: 55.75, longitude: 37.62 });
  assert.deepEqual((await w.request('/api/status')).body, { lastIngestTimestamp: '2012-04-23T18:27:43.511Z' });
  const day = (await w.request('/api/statistics/sensor/speed/date/2012-04-23')).body;
  assert.equal(day.length, 96);
  // 18:15–18:30 is quarter 73: the average of the three sample readings
  assert.deepEqual(day[73], {
    sensor: 'speed',
    value: (55.5 + 60.2 + 61.9) / 3,
    timestamp: '2012-04-23T18:15:00.000Z',
  });
  assert.equal(day.filter((b: { value: number }) => b.value !== 0).length, 1);
});

test('an unknown sensor or a bad date is 400 naming it', async (t) => {
  const w = await build(t);
  const sensor = await w.request('/api/statistics/sensor/altitude/date/2024-01-01');
  assert.equal(sensor.status, 400);
  assert.equal(sensor.body.field, 'sensor');
  const date = await w.request('/api/statistics/sensor/speed/date/2024-02-30');
  assert.equal(date.status, 400);
  assert.equal(date.body.field, 'date');
});

test('the last ingest time comes from a catalog of 150,000 series (too many to spread into Math.max)', async (t) => {
  const w = await build(t);
  const lines = Array.from({ length: 150_000 }, (_, i) => ({
    series: `many/${i}`,
    value: i,
    ts: 1_700_000_000_000 + i,
  }));
  assert.equal((await w.ingest(lines)).status, 200);
  const status = await w.request('/api/status');
  assert.equal(status.status, 200, JSON.stringify(status.body));
  assert.deepEqual(status.body, { lastIngestTimestamp: new Date(1_700_000_000_000 + 149_999).toISOString() });
});
