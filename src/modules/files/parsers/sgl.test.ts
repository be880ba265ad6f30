import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Reading } from '../../../core/readings.js';
import { parseSgl } from './sgl.js';
import { FileRejected, type ParsedFile } from './types.js';

const OPTIONS = { zone: 'Europe/Lisbon', seriesPrefix: 'files' };
const MP = 'PT0002000012345678XY';
const MINUTE = 60_000;

// records as the converter writes them: 100 characters, space padded
const header = (entity = 'EDP Distribuicao', date = '20240615', sequence = '000123') =>
  `00${entity.padEnd(20)}${date}${sequence}`.padEnd(100);
const detail = (date: string, hhmm: string, energy: number | string, type = 'A', mp = MP) =>
  `20${mp.padEnd(20)}${date}${hhmm}${String(energy).padStart(10, '0')}${type}`.padEnd(100);
const trailer = (count: number | string) => `99${'TOTAL'.padEnd(20)}${String(count).padStart(10, '0')}`.padEnd(100);

/** The 96 interval ends of a 24-hour day, 0015 … 2400. */
function dayEnds(): string[] {
  const ends: string[] = [];
  for (let m = 15; m <= 24 * 60; m += 15)
    ends.push(`${String(Math.floor(m / 60)).padStart(2, '0')}${String(m % 60).padStart(2, '0')}`);
  return ends;
}

function file(date: string, ends: string[], energy: (i: number) => number = (i) => (i + 1) * 25): string[] {
  return [header(), ...ends.map((hhmm, i) => detail(date, hhmm, energy(i))), trailer(ends.length)];
}

function readings(parsed: ParsedFile): Reading[] {
  return parsed.batches.flatMap((b) =>
    Array.from({ length: b.length }, (_, i) => ({ series: b.keys[b.keyIndex[i]!]!, ts: b.ts[i]!, value: b.value[i]! })),
  );
}

async function rejection(lines: string[]): Promise<FileRejected> {
  try {
    await parseSgl(lines, OPTIONS);
  } catch (err) {
    assert.ok(err instanceof FileRejected, `expected FileRejected, got ${err}`);
    return err;
  }
  assert.fail('the file was accepted');
}

function assertQuarterHours(rs: Reading[]) {
  for (let i = 1; i < rs.length; i++)
    assert.equal(rs[i]!.ts - rs[i - 1]!.ts, 15 * MINUTE, `reading ${i} is 15 minutes after the one before`);
}

test('a summer day of 96 records becomes 96 kWh readings at interval starts, in UTC', async () => {
  // record 1 is 0000012345 = 123.45 kWh; record i after it is i × 0.25 kWh
  const lines = file('20240615', dayEnds(), (i) => (i === 0 ? 12345 : (i + 1) * 25));
  // CRLF and trimmed trailing spaces, as file transfers leave them
  lines[1] = `${lines[1]!.trimEnd()}\r`;
  const parsed = await parseSgl(lines, { ...OPTIONS, batchRows: 40 });
  const rs = readings(parsed);

  assert.equal(parsed.format, 'sgl_v2');
  assert.equal(parsed.rows, 96);
  assert.deepEqual(parsed.metadata, { entity: 'EDP Distribuicao', date: '2024-06-15', sequence: '000123' });
  assert.deepEqual(parsed.series, [
    { key: `files/${MP}`, unit: 'kWh', kind: 'interval', intervalS: 900, meterPoint: MP },
  ]);
  assert.deepEqual(
    parsed.batches.map((b) => b.length),
    [40, 40, 16],
  );
  assert.deepEqual(parsed.batches[0]!.meta, [{ unit: 'kWh', kind: 'interval' }]);
  assert.equal(rs.length, 96);
  // Lisbon is UTC+1 in June: the interval ending 00:15 local starts 2024-06-14 23:00 UTC
  assert.deepEqual(rs[0], { series: `files/${MP}`, ts: Date.parse('2024-06-14T23:00:00Z'), value: 123.45 });
  // 2400 ends the day's last interval, 23:45–24:00 local
  assert.deepEqual(rs[95], { series: `files/${MP}`, ts: Date.parse('2024-06-15T22:45:00Z'), value: 24 });
  // 123.45 + 0.25 × (2 + 3 + … + 96)
  const sum = rs.reduce((s, r) => s + r.value, 0);
  assert.ok(Math.abs(sum - 1287.2) < 1e-9, `sum ${sum}`);
  assertQuarterHours(rs);
});

test('a trailer count that differs from the records found rejects the file at the trailer line', async () => {
  const lines = file('20240615', dayEnds());
  lines[97] = trailer(95);
  const err = await rejection(lines);
  assert.equal(err.line, 98);
  assert.match(err.message, /^line 98: trailer counts 95 detail records but the file holds 96/);
});

test('a letter in the energy of line 37 is named with its line and columns', async () => {
  const lines = file('20240615', dayEnds());
  lines[36] = lines[36]!.slice(0, 40) + 'O' + lines[36]!.slice(41);
  const err = await rejection(lines);
  assert.equal(err.line, 37);
  assert.match(err.reason, /^energy must be digits in columns 35–44 \(got "000000O900"\)$/);
});

test('Lisbon spring-forward day: 92 intervals, 15 minutes apart, the skipped hour absent', async () => {
  // clocks go from 01:00 WET to 02:00 WEST: the interval ending at 01:00 UTC reads 0200
  const ends = dayEnds().filter((hhmm) => !['0100', '0115', '0130', '0145'].includes(hhmm));
  assert.equal(ends.length, 92);
  const rs = readings(await parseSgl(file('20240331', ends), OPTIONS));
  assert.equal(rs.length, 92);
  assert.equal(rs[0]!.ts, Date.parse('2024-03-31T00:00:00Z'));
  assert.equal(rs[3]!.ts, Date.parse('2024-03-31T00:45:00Z')); // the 0200 record
  assert.equal(rs[91]!.ts, Date.parse('2024-03-31T22:45:00Z'));
  assertQuarterHours(rs);

  // the change's instant written on the clock it leaves (0100 for 0200) is the same interval
  const atOne = file('20240331', ends);
  atOne[4] = detail('20240331', '0100', 100);
  assert.equal(readings(await parseSgl(atOne, OPTIONS))[3]!.ts, Date.parse('2024-03-31T00:45:00Z'));
});

test('Lisbon fall-back day: 100 intervals, the repeated hour read as two consecutive hours', async () => {
  const ends = dayEnds();
  const repeated = ['0100', '0115', '0130', '0145'];
  ends.splice(ends.indexOf('0145') + 1, 0, ...repeated);
  assert.equal(ends.length, 100);
  const rs = readings(await parseSgl(file('20241027', ends), OPTIONS));
  assert.equal(rs.length, 100);
  assert.equal(rs[0]!.ts, Date.parse('2024-10-26T23:00:00Z')); // 00:00 WEST
  assert.equal(rs[3]!.ts, Date.parse('2024-10-26T23:45:00Z')); // first 0100: 01:00 WEST
  assert.equal(rs[7]!.ts, Date.parse('2024-10-27T00:45:00Z')); // second 0100: 01:00 WET
  assert.equal(rs[99]!.ts, Date.parse('2024-10-27T23:45:00Z'));
  assertQuarterHours(rs);
});

test('reading types other than A get their own series per meter point', async () => {
  const lines = [
    header(),
    detail('20240615', '0015', 100, 'A'),
    detail('20240615', '0015', 20, 'R'),
    detail('20240615', '0015', 300, 'A', 'PT 0002 0000 99'),
    detail('20240615', '0030', 110, 'A'),
    detail('20240615', '0030', 21, 'R'),
    trailer(5),
  ];
  const parsed = await parseSgl(lines, OPTIONS);
  assert.deepEqual(
    parsed.series.map((s) => [s.key, s.meterPoint]),
    [
      [`files/${MP}`, MP],
      [`files/${MP}/R`, MP],
      ['files/PT_0002_0000_99', 'PT 0002 0000 99'],
    ],
  );
  assert.deepEqual(
    readings(parsed).map((r) => [r.series, r.value]),
    [
      [`files/${MP}`, 1],
      [`files/${MP}/R`, 0.2],
      ['files/PT_0002_0000_99', 3],
      [`files/${MP}`, 1.1],
      [`files/${MP}/R`, 0.21],
    ],
  );
});

test('malformed files are refused with the line and the reason', async () => {
  const d = (hhmm: string, date = '20240615') => detail(date, hhmm, 100);
  const cases: [string, string[], number, RegExp][] = [
    ['empty', [], 0, /^empty file/],
    ['no header', [d('0015'), trailer(1)], 1, /missing header: the file must start with a 00 record/],
    ['no trailer', [header(), d('0015'), d('0030')], 0, /missing trailer: .*\(line 3\)/],
    ['unknown type', [header(), d('0015'), `30${MP}`, trailer(1)], 3, /unknown record type "30"/],
    ['after trailer', [header(), d('0015'), trailer(1), d('0030')], 4, /record after the trailer \(99\) on line 3/],
    ['too long', [header(), `${d('0015')}X`, trailer(1)], 2, /101 characters long; records are at most 100/],
    ['2415', [header(), d('2415'), trailer(1)], 2, /24:15 does not exist/],
    ['hour 25', [header(), d('2500'), trailer(1)], 2, /hour 25 does not exist/],
    ['30 February', [header(), d('0015', '20240230'), trailer(1)], 2, /2024-02 has no day 30/],
    ['off the grid', [header(), d('0007'), trailer(1)], 2, /no end of a 15-minute interval/],
    ['skipped hour', [header(), d('0115', '20240331'), trailer(1)], 2, /01:15 does not exist in Europe\/Lisbon/],
    ['repeat', [header(), d('0015'), d('0030'), d('0030'), trailer(3)], 4, /not after the one on line 3/],
    ['bad count', [header(), d('0015'), `99${'TOTAL'.padEnd(20)}00000000x1`], 3, /record count must be digits/],
    ['bad header date', [header('X', '2024061A'), d('0015'), trailer(1)], 1, /header date must be digits/],
    ['no meter point', [header(), detail('20240615', '0015', 1, 'A', ''), trailer(1)], 2, /no meter point code/],
  ];
  for (const [name, lines, line, reason] of cases) {
    const err = await rejection(lines);
    assert.equal(err.line, line, name);
    assert.match(err.reason, reason, name);
    assert.equal(err.code, 'file_rejected', name);
  }
});
