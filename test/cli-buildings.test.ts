import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wattline } from './cli-helpers.js';
import { build, type TestApp } from './helpers.js';

const at = (w: TestApp, key = w.key) => ['--url', w.url, '--key', key];

/** The printed table's rows as cells (columns are two or more spaces apart). */
const rows = (stdout: string) =>
  stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/ {2,}/));

test('wattline rooms add|ls|rm and sensors add|ls|rm manage the registry and print tables or JSON', {
  timeout: 120_000,
}, async (t) => {
  const w = await build(t);
  const run = async (args: string[]) => {
    const r = await wattline([...args, ...at(w)]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  assert.match(
    await run(['rooms', 'add', 'Meeting Room 2', '--floor', '1', '--area', '20']),
    /added room Meeting Room 2/,
  );
  assert.match(
    await run(['sensors', 'add', 'p1', '--type', 'power', '--room', 'Meeting Room 2']),
    /added p1 \(power, series sensors\/p1\)/,
  );
  await run(['sensors', 'add', 'm1', '--type', 'energy', '--name', 'Main meter', '--series', 'meters/main']);
  await w.ingest([{ series: 'sensors/p1', ts: Date.now(), value: 150 }]);

  const sensors = rows(await run(['sensors', 'ls']));
  assert.deepEqual(sensors[0], ['id', 'name', 'type', 'room', 'series', 'unit', 'status', 'last-value', 'last-seen']);
  assert.deepEqual(sensors[1], ['m1', 'Main meter', 'energy', '-', 'meters/main', 'kWh', 'never', '-', '-']);
  assert.deepEqual(sensors[2].slice(0, 8), ['p1', 'p1', 'power', 'Meeting Room 2', 'sensors/p1', 'W', 'online', '150']);
  assert.deepEqual(
    rows(await run(['sensors', 'ls', '--room', 'Meeting Room 2'])).map((r) => r[0]),
    ['id', 'p1'],
  );
  assert.deepEqual(
    rows(await run(['sensors', 'ls', '--type', 'energy'])).map((r) => r[0]),
    ['id', 'm1'],
  );
  const listed = JSON.parse(await run(['sensors', 'ls', '--json']));
  assert.equal(listed.count, 2);

  assert.deepEqual(rows(await run(['rooms', 'ls'])), [
    ['name', 'floor', 'area-m2', 'sensors', 'power-w', 'temperature-c'],
    ['Meeting Room 2', '1', '20', '1', '-', '-'],
  ]);
  assert.equal(JSON.parse(await run(['rooms', 'ls', '--json'])).rooms[0].sensor_count, 1);

  const duplicate = await wattline(['rooms', 'add', 'Meeting Room 2', ...at(w)]);
  assert.equal(duplicate.code, 1);
  assert.match(duplicate.stderr, /^wattline: HTTP 409: room "Meeting Room 2" exists/);
  const badType = await wattline(['sensors', 'add', 'x', '--type', 'laser', ...at(w)]);
  assert.equal(badType.code, 1);
  assert.match(badType.stderr, /sensor_type must be one of/);

  assert.match(await run(['rooms', 'rm', 'Meeting Room 2']), /removed room Meeting Room 2/);
  assert.match(await run(['sensors', 'rm', 'm1']), /removed m1/);
  const left = rows(await run(['sensors', 'ls']));
  assert.deepEqual(
    left.map((r) => [r[0], r[3]]),
    [
      ['id', 'room'],
      ['p1', '-'],
    ],
  );
  const gone = await wattline(['sensors', 'rm', 'm1', ...at(w)]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /HTTP 404/);
});
