import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { wattline } from './cli-helpers.js';
import { build, type TestApp } from './helpers.js';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1); // London is on UTC in January
const range = ['--start', '2024-01-01T00:00:00Z', '--end', '2024-01-03T00:00:00Z', '--window', '1d'];

/** The client options pointing the CLI at the in-process app with its admin key. */
const at = (w: TestApp) => ['--url', w.url, '--key', w.key];

/**
 * Two days of a kWh meter read hourly: 0.5 kWh an hour on the 1st (12 kWh), 1 kWh an hour on the
 * 2nd (24 kWh); 20 p/kWh on the 1st, 25 p on the 2nd, 50 p a day standing charge; 100 gCO2/kWh
 * known from noon on the 1st only.
 */
async function seeded(t: TestContext): Promise<TestApp> {
  const w = await build(t);
  await w.app.readings.describe([
    { key: 'home/meter', unit: 'kWh', kind: 'counter' },
    { key: 'tariff/unit-rate/inc-vat', unit: 'p/kWh', kind: 'gauge' },
    { key: 'tariff/standing-charge/inc-vat', unit: 'p/day', kind: 'gauge' },
    { key: 'grid/carbon-intensity/actual', unit: 'gCO2/kWh', kind: 'gauge' },
  ]);
  const lines: object[] = [];
  for (let h = 0, total = 1000; h <= 48; total += h < 24 ? 0.5 : 1, h++)
    lines.push({ series: 'home/meter', ts: T0 + h * H, value: total });
  lines.push(
    { series: 'tariff/unit-rate/inc-vat', ts: T0, value: 20 },
    { series: 'tariff/unit-rate/inc-vat', ts: T0 + 24 * H, value: 25 },
    { series: 'tariff/standing-charge/inc-vat', ts: T0 - 30 * 24 * H, value: 50 },
    { series: 'grid/carbon-intensity/actual', ts: T0 + 12 * H, value: 100 },
  );
  const sent = await w.ingest(lines);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  return w;
}

/** The printed table's rows as cells (columns are two or more spaces apart; no cell here is empty). */
const rows = (stdout: string) =>
  stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/ {2,}/));

test('wattline energy prints the energy per local day and the total, in the unit asked, or the JSON reply', {
  timeout: 60_000,
}, async (t) => {
  const w = await seeded(t);
  const run = await wattline(['energy', '--series', 'home/meter', ...range, '--tz', 'Europe/London', ...at(w)]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(rows(run.stdout), [
    ['time', 'home/meter (kWh)'],
    ['2024-01-01T00:00:00.000+00:00', '12'],
    ['2024-01-02T00:00:00.000+00:00', '24'],
    ['total', '36'],
  ]);

  const wh = await wattline(['energy', '--series', 'home/meter', ...range, '--unit', 'Wh', ...at(w)]);
  assert.equal(wh.code, 0, wh.stderr);
  assert.deepEqual(
    rows(wh.stdout).map((r) => r[1]),
    ['home/meter (Wh)', '12000', '24000', '36000'],
  );

  const json = await wattline(['energy', '--series', 'home/meter', ...range, '--json', ...at(w)]);
  assert.equal(json.code, 0, json.stderr);
  const reply = JSON.parse(json.stdout);
  assert.equal(reply.unit, 'kWh');
  assert.deepEqual(
    reply.results.map((r: { series: string; method: string; total: number }) => [r.series, r.method, r.total]),
    [['home/meter', 'increase', 36]],
  );
});

test('wattline energy --cost prints energy, cost, standing charge and total per day, the totals and the effective price', {
  timeout: 60_000,
}, async (t) => {
  const w = await seeded(t);
  const run = await wattline([
    'energy',
    '--series',
    'home/meter',
    ...range,
    '--cost',
    'tariff/unit-rate/inc-vat',
    '--standing',
    'tariff/standing-charge/inc-vat',
    ...at(w),
  ]);
  assert.equal(run.code, 0, run.stderr);
  // 12 kWh × 20 p + 50 p; 24 kWh × 25 p + 50 p; 840 p for 36 kWh is 23.33 p/kWh
  assert.deepEqual(rows(run.stdout), [
    ['time', 'energy_kwh', 'cost', 'standing', 'total', 'missing_slots'],
    ['2024-01-01T00:00:00.000Z', '12', '240', '50', '290', '0'],
    ['2024-01-02T00:00:00.000Z', '24', '600', '50', '650', '0'],
    ['total', '36', '840', '100', '940', '0'],
    ['effective price per kWh: 23.33333333'],
  ]);

  const json = await wattline([
    'energy',
    '--series',
    'home/meter',
    ...range,
    '--cost',
    'tariff/unit-rate/inc-vat',
    '--json',
    ...at(w),
  ]);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout).totals, {
    energy_kwh: 36,
    cost: 840,
    standing_charge: 0,
    total: 840,
    effective_price_per_kwh: 840 / 36,
    missing_slots: 0,
    unpriced_kwh: 0,
  });
});

test('wattline energy --carbon prints grams per day and says how much energy had no intensity', {
  timeout: 60_000,
}, async (t) => {
  const w = await seeded(t);
  const run = await wattline([
    'energy',
    '--series',
    'home/meter',
    ...range,
    '--carbon',
    'grid/carbon-intensity/actual',
    ...at(w),
  ]);
  assert.equal(run.code, 0, run.stderr);
  // the morning of the 1st (6 kWh) has no intensity: 6 kWh × 100 g, then 24 kWh × 100 g
  assert.deepEqual(rows(run.stdout), [
    ['time', 'energy_kwh', 'carbon_g', 'missing_slots'],
    ['2024-01-01T00:00:00.000Z', '12', '600', '1'],
    ['2024-01-02T00:00:00.000Z', '24', '2400', '0'],
    ['total', '36', '3000', '1'],
    ['average gCO2/kWh: 100'],
    ['no intensity for 6 kWh (missing_slots 1): left out of the carbon'],
  ]);
});

test('wattline energy: an unknown series and options that do not go together exit 1 with one line', {
  timeout: 60_000,
}, async (t) => {
  const w = await seeded(t);
  const unknown = await wattline(['energy', '--series', 'home/nothing', ...range, ...at(w)]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr.trim(), /^wattline: HTTP 400: .*home\/nothing/);
  const both = await wattline([
    'energy',
    '--series',
    'home/meter',
    ...range,
    '--cost',
    'tariff/unit-rate/inc-vat',
    '--carbon',
    'grid/carbon-intensity/actual',
    ...at(w),
  ]);
  assert.equal(both.code, 1);
  assert.equal(both.stderr.trim(), 'wattline: --cost and --carbon: ask for one at a time');
  const standing = await wattline(['energy', '--series', 'home/meter', ...range, '--standing', 'x/y', ...at(w)]);
  assert.equal(standing.stderr.trim(), 'wattline: --standing needs --cost');
});
