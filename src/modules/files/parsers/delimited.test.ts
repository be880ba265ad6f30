import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Reading } from '../../../core/readings.js';
import { parseDelimited } from './delimited.js';
import { FileRejected, type ParsedFile, type ParseOptions } from './types.js';

const OPTIONS: ParseOptions = { zone: 'Europe/Lisbon', seriesPrefix: 'files' };
const at = (iso: string) => Date.parse(iso);

function readings(parsed: ParsedFile): Reading[] {
  return parsed.batches.flatMap((b) =>
    Array.from({ length: b.length }, (_, i) => ({ series: b.keys[b.keyIndex[i]!]!, ts: b.ts[i]!, value: b.value[i]! })),
  );
}

const parse = (lines: string[], options: Partial<ParseOptions> = {}) =>
  parseDelimited(lines, { ...OPTIONS, ...options });

async function rejection(lines: string[]): Promise<FileRejected> {
  try {
    await parse(lines);
  } catch (err) {
    assert.ok(err instanceof FileRejected, `expected FileRejected, got ${err}`);
    return err;
  }
  assert.fail('the file was accepted');
}

test('semicolons with decimal commas: each value column a series, its unit from its name', async () => {
  const parsed = await parse(['time;kWh;kW', '2024-03-01 00:15;1,234;0,5', '2024-03-01 00:30;2,5;0,75'], {
    zone: 'Europe/Madrid',
  });
  assert.equal(parsed.format, 'delimited');
  assert.equal(parsed.rows, 2);
  assert.deepEqual(parsed.series, [
    { key: 'files/kWh', unit: 'kWh', kind: 'interval', intervalS: 900, meterPoint: null },
    { key: 'files/kW', unit: 'kW', kind: 'gauge', intervalS: null, meterPoint: null },
  ]);
  // Madrid is UTC+1 in March
  assert.deepEqual(readings(parsed), [
    { series: 'files/kWh', ts: at('2024-02-29T23:15:00Z'), value: 1.234 },
    { series: 'files/kW', ts: at('2024-02-29T23:15:00Z'), value: 0.5 },
    { series: 'files/kWh', ts: at('2024-02-29T23:30:00Z'), value: 2.5 },
    { series: 'files/kW', ts: at('2024-02-29T23:30:00Z'), value: 0.75 },
  ]);
});

test('without a header, columns are value, value2…, with no unit', async () => {
  const parsed = await parse(['2024-03-01 00:15;1,234;0,5', '2024-03-01 00:30;2;1']);
  assert.deepEqual(
    parsed.series.map((s) => [s.key, s.unit, s.kind]),
    [
      ['files/value', null, 'gauge'],
      ['files/value2', null, 'gauge'],
    ],
  );
  assert.deepEqual(
    readings(parsed).map((r) => r.value),
    [1.234, 0.5, 2, 1],
  );
});

test('space-separated with a comment header: comments become metadata, the date and time read together', async () => {
  const parsed = await parse([
    '# meter: PT0002000012345678XY',
    '# site = Lisboa Norte',
    '// exported by: logger 3',
    '# a comment without a key',
    'timestamp   kWh',
    '2024-07-01 00:15   0.5',
    '2024-07-01 00:30   0.75',
  ]);
  assert.deepEqual(parsed.metadata, {
    meter: 'PT0002000012345678XY',
    site: 'Lisboa Norte',
    'exported by': 'logger 3',
  });
  // Lisbon is UTC+1 in July
  assert.deepEqual(readings(parsed), [
    { series: 'files/kWh', ts: at('2024-06-30T23:15:00Z'), value: 0.5 },
    { series: 'files/kWh', ts: at('2024-06-30T23:30:00Z'), value: 0.75 },
  ]);
});

test('tab-separated with epoch seconds: W is a gauge, Wh an interval series', async () => {
  const parsed = await parse(['ts\tpower_W\tenergy_Wh', '1709251200\t1500\t375', '1709252100\t1600\t400']);
  assert.deepEqual(parsed.series, [
    { key: 'files/power_W', unit: 'W', kind: 'gauge', intervalS: null, meterPoint: null },
    { key: 'files/energy_Wh', unit: 'Wh', kind: 'interval', intervalS: 900, meterPoint: null },
  ]);
  assert.deepEqual(readings(parsed)[0], { series: 'files/power_W', ts: at('2024-03-01T00:00:00Z'), value: 1500 });
  assert.equal(readings(parsed)[3]!.ts, at('2024-03-01T00:15:00Z'));
});

test('a CSV of energy and power columns with ISO offsets gives two series with their units', async () => {
  const parsed = await parse([
    'timestamp,Energy (kWh),Power (kW)',
    '2024-03-01T00:15:00+01:00,1.5,6',
    '2024-03-01T00:30:00+01:00,1.25,5',
    '2024-03-01T00:45:00Z,1,4',
  ]);
  assert.deepEqual(
    parsed.series.map((s) => [s.key, s.unit, s.kind]),
    [
      ['files/Energy_kWh', 'kWh', 'interval'],
      ['files/Power_kW', 'kW', 'gauge'],
    ],
  );
  assert.deepEqual(
    readings(parsed)
      .filter((r) => r.series === 'files/Energy_kWh')
      .map((r) => [new Date(r.ts).toISOString(), r.value]),
    [
      ['2024-02-29T23:15:00.000Z', 1.5],
      ['2024-02-29T23:30:00.000Z', 1.25],
      ['2024-03-01T00:45:00.000Z', 1],
    ],
  );
  // steps of 15 and 75 minutes: regular, with readings missing
  assert.equal(parsed.series[0]!.intervalS, 900);
});

test('units are told apart by their letters, whatever the case', async () => {
  const parsed = await parse(['time,P_W,E_Wh,P_kW,E_kWh,KWH total,Temperature', '2024-03-01 00:15,1,2,3,4,5,6']);
  assert.deepEqual(
    parsed.series.map((s) => [s.key, s.unit, s.kind]),
    [
      ['files/P_W', 'W', 'gauge'],
      ['files/E_Wh', 'Wh', 'interval'],
      ['files/P_kW', 'kW', 'gauge'],
      ['files/E_kWh', 'kWh', 'interval'],
      ['files/KWH_total', 'kWh', 'interval'],
      ['files/Temperature', null, 'gauge'],
    ],
  );
});

test('an empty cell skips that reading only', async () => {
  const parsed = await parse(['time;kWh;kW', '2024-03-01 00:15;1;2', '2024-03-01 00:30;;3', '2024-03-01 00:45;1,5;']);
  assert.deepEqual(
    readings(parsed).map((r) => [r.series, r.value]),
    [
      ['files/kWh', 1],
      ['files/kW', 2],
      ['files/kW', 3],
      ['files/kWh', 1.5],
    ],
  );
  assert.equal(parsed.rows, 3);
});

test('a value that is not a number rejects the file naming its line and column', async () => {
  const err = await rejection([
    '# site: A',
    '',
    'time;kWh',
    '2024-03-01 00:15;1',
    '2024-03-01 00:30;2',
    '2024-03-01 00:45;abc',
  ]);
  assert.equal(err.line, 6);
  assert.equal(err.message, 'line 6: value "abc" in column "kWh" is not a number');
});

test('an unreadable time or a row of the wrong width rejects the file naming its line', async () => {
  const rows = Array.from({ length: 30 }, (_, i) => `2024-03-01T${String(i % 24).padStart(2, '0')}:00Z,${i}`);
  const badTime = ['time,kWh', ...rows];
  badTime[25] = '2024-02-30T00:00Z,1';
  let err = await rejection(badTime);
  assert.equal(err.line, 26);
  assert.match(err.reason, /time "2024-02-30T00:00Z" in column "time" is not a real time: 2024-02 has no day 30/);

  badTime[25] = 'yesterday,1';
  err = await rejection(badTime);
  assert.match(err.reason, /time "yesterday" in column "time" is not a time: expected ISO 8601/);

  // among the rows sampled for the layout, and after them
  for (const line of [4, 28]) {
    const wide = ['time,kWh', ...rows];
    wide[line - 1] = '2024-03-01T00:00Z,1,2';
    err = await rejection(wide);
    assert.equal(err.line, line);
    assert.match(err.reason, /row has 3 fields separated by comma; expected 2 as on line 2/);
  }
});

test('a date column and a time column, DD/MM/YYYY and YYYY/MM/DD dates', async () => {
  const split = await parse(['date;time;kWh', '01/07/2024;00:15;1', '01/07/2024;00:30:00;2']);
  assert.deepEqual(
    readings(split).map((r) => r.ts),
    [at('2024-06-30T23:15:00Z'), at('2024-06-30T23:30:00Z')],
  );
  assert.deepEqual(
    split.series.map((s) => s.key),
    ['files/kWh'],
  );
  const slashes = await parse(['datetime,W', '2024/07/01 00:15,100', '2024/07/01 00:30,200']);
  assert.equal(readings(slashes)[0]!.ts, at('2024-06-30T23:15:00Z'));
  const dmy = await parse(['datetime,W', '15/01/2024 13:45:30,100']);
  assert.equal(readings(dmy)[0]!.ts, at('2024-01-15T13:45:30Z'));
  const ms = await parse(['ts,W', '1709251200000,100']);
  assert.equal(readings(ms)[0]!.ts, at('2024-03-01T00:00:00Z'));
});

test('a meter column keys the series by meter and column', async () => {
  const parsed = await parse([
    'meter_point,timestamp,kWh',
    'PT 01,2024-03-01T00:15Z,1',
    'PT 02,2024-03-01T00:15Z,2',
    'PT 01,2024-03-01T00:30Z,3',
  ]);
  assert.deepEqual(
    parsed.series.map((s) => [s.key, s.meterPoint]),
    [
      ['files/PT_01/kWh', 'PT 01'],
      ['files/PT_02/kWh', 'PT 02'],
    ],
  );
  assert.deepEqual(
    readings(parsed).map((r) => [r.series, r.value]),
    [
      ['files/PT_01/kWh', 1],
      ['files/PT_02/kWh', 2],
      ['files/PT_01/kWh', 3],
    ],
  );
});

test('an energy series on an irregular grid has no interval', async () => {
  const parsed = await parse(['time,kWh', '2024-03-01T00:00Z,1', '2024-03-01T00:10Z,1', '2024-03-01T00:25Z,1']);
  assert.equal(parsed.series[0]!.intervalS, null);
  assert.equal(parsed.series[0]!.kind, 'interval');
});

test('local times repeated when clocks go back are read in order', async () => {
  const parsed = await parse([
    'time;kWh',
    '2024-10-27 00:30;1',
    '2024-10-27 01:00;1',
    '2024-10-27 01:30;1',
    '2024-10-27 01:00;1',
    '2024-10-27 01:30;1',
    '2024-10-27 02:00;1',
  ]);
  assert.deepEqual(
    readings(parsed).map((r) => new Date(r.ts).toISOString().slice(11, 16)),
    ['23:30', '00:00', '00:30', '01:00', '01:30', '02:00'],
  );
  assert.equal(parsed.series[0]!.intervalS, 1800);
});

test('a file of comments and a header only has no readings; a file of nothing is refused', async () => {
  const parsed = await parse(['# site: A', 'time;kWh']);
  assert.deepEqual([parsed.rows, parsed.batches.length, parsed.metadata], [0, 0, { site: 'A' }]);
  const err = await rejection(['# site: A', '']);
  assert.equal(err.line, 0);
  assert.match(err.reason, /no header or data rows/);
});
