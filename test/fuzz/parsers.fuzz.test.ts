/**
 * Fuzzing the parsers (issue 20, point 1): generated and mutated inputs, starting from real samples
 * (samples/*.ndjson, the seed data when it is beside the repository, line-protocol lines as the
 * tests write them, generated .sgl_v2 files, the sensor-log test events).
 *
 * A short run is part of `npm test`; `npm run fuzz -- --minutes N` runs longer campaigns and writes
 * each counterexample to test/fuzz/regressions/, where it is replayed below (harness.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { InvalidInput } from '../../src/core/errors.js';
import { type ReadingBatch, SERIES_KEY_PATTERN } from '../../src/core/readings.js';
import { FileRejected, parseDelimited, parseSgl } from '../../src/modules/files/parsers/index.js';
import { LineProtocolReadings } from '../../src/modules/ingest/line-protocol.js';
import { NdjsonReadings } from '../../src/modules/ingest/ndjson.js';
import { parseSensorLog } from '../../src/modules/sensorlog/parser.js';
import { sglFile } from '../files-fixtures.js';
import { assertLinearTime, Regressions, TIMING_SKIP } from './harness.js';
import { mutate, textArbitraries } from './mutations.js';

// ---------------------------------------------------------------------------------------------
// properties by name, so that a counterexample written by a campaign can be replayed (harness.ts)

const ROOT = path.resolve(import.meta.dirname, '../..');
const REGRESSIONS = new Regressions(path.join(import.meta.dirname, 'regressions'));

type Predicate = (input: never) => void | Promise<void>;
/** Whether properties pass over the inputs of known bugs (not while a regression case is replayed). */
let passOverKnownBugs = true;
const PROPERTIES = new Map<string, Predicate>();

function property<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (input: T) => void | Promise<void>,
  runs = 300,
) {
  PROPERTIES.set(name, predicate as Predicate);
  test(`fuzz: ${name}`, () => REGRESSIONS.check(name, arbitrary, predicate, { runs, properties: PROPERTIES.size }));
}

// ---------------------------------------------------------------------------------------------
// samples

const readLines = (file: string) =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
    : [];

const NDJSON_SAMPLES = [
  ...readLines(path.join(ROOT, 'samples/readings.ndjson')).slice(0, 40),
  ...readLines(path.join(ROOT, 'samples/cloud-lada.ndjson')),
  // the shared seed data, when it is checked out beside the repository
  ...readLines(path.join(ROOT, '../shared/seed-data/cloud-lada/ingest-sample.ndjson')),
  '{"series":"a/b","value":1,"ts":"2024-06-01T00:00:00Z","unit":"kWh","kind":"counter"}',
  '{"series":"a/b","value":-1.5e3,"ts":1717200000}',
];

const NS = '1717200000000000000';
/** Line-protocol lines as line-protocol.test.ts writes them. */
const LP_SAMPLES = [
  `my\\ meter\\,x,tag\\ key\\,a\\=b=val\\ 1\\,2\\=3,path=C:\\\\dir\\x,q="x" field\\ one\\=x\\,y=1 ${NS}`,
  `m\\=x v=1 ${NS}`,
  `m\\\\,t=1 v=2 ${NS}`,
  `m,host=a state="on, off = \\"x\\" \\\\",power=5,note="a b\\\\",energy=7 ${NS}`,
  `m a=1,b=1.5,c=-1e3,d=1.,e=.5,f=-0.25,g=2E+2,h=12i,i=-7i,j=12u,k=0u,l=1234567.125 ${NS}`,
  `b,n=1 on=t ${NS}`,
  `m x=0.1000000000000000055511151231257827 ${NS}`,
  `m x=9007199254740993i,y=9007199254740991i,z=18446744073709551615u ${NS}`,
  `m  v=1   ${NS}  `,
  'cpu,host=a usage=0.5 1717200000',
  '# a comment',
  'temp°C,room=küche value=21.5',
];

const SENSORLOG_SAMPLES = [
  ...readLines(path.join(ROOT, 'src/modules/sensorlog/testcases/events.txt')).slice(0, 20),
  ...readLines(path.join(ROOT, '../shared/seed-data/energy-sensors/events.txt')).slice(0, 20),
  'Device: ID=1; Fw=16071801; Evt=2;',
  'Foo: Bar=A;B;C;',
  'UTC Time: 2016-10-4 16:47:50; hz: 49.87',
];

const DELIMITED_SAMPLES = [
  ['time;kWh;kW', '2024-03-01 00:15;1,234;0,5', '2024-03-01 00:30;2,5;0,75'],
  ['2024-03-01 00:15;1,234;0,5', '2024-03-01 00:30;2;1'],
  ['# meter: PT0001', 'timestamp,meter,kwh', '2024-03-01T00:15:00Z,PT0001,1.5', '2024-03-01T00:30:00Z,PT0001,2'],
];

// ---------------------------------------------------------------------------------------------
// arbitraries

const { anyString, mutation, mutated } = textArbitraries({ maxLength: 80 });

const keyChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/-'.split(''));
const alnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''));
/** A name matching SERIES_KEY_PATTERN, of at most `max` characters. */
const seriesName = (max: number) =>
  fc.tuple(alnum, fc.string({ unit: keyChar, maxLength: max - 1 })).map(([a, b]) => a + b);

/** An integer in [min, max] beyond fc.integer's 32 bits. */
const safeInteger = (min: number, max: number) => fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number);
// 2001-09-09 … 2100-01-01, in ms: epoch numbers of 13 digits, which are read as ms without a precision
const timestampMs = safeInteger(1e12, 4_102_444_800_000);
const finiteValue = fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v));

/** Cut positions (any numbers: taken modulo the body's length). */
const cuts = fc.array(fc.nat(), { maxLength: 8 });

/** `body` in pieces at `at` (modulo its length, sorted): how a socket may hand it over. */
function split(body: string, at: number[]): string[] {
  const positions = [...new Set(at.map((n) => n % (body.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const p of positions) {
    pieces.push(body.slice(from, p));
    from = p;
  }
  pieces.push(body.slice(from));
  return pieces;
}

// ---------------------------------------------------------------------------------------------
// the ingest parsers

type Reading = { series: string; ts: number; value: number };
type IngestKind = 'ndjson' | 'json' | 'line-protocol';
interface IngestOptions {
  batchSize: number;
  maxLineBytes: number;
}
const NOW = Date.UTC(2024, 5, 2, 12);
const MAX_INVALID = 1_000;

async function ingest(kind: IngestKind, pieces: string[], options: IngestOptions) {
  const readings: Reading[] = [];
  const publish = async (batch: ReadingBatch) => {
    for (let i = 0; i < batch.length; i++)
      readings.push({ series: batch.keys[batch.keyIndex[i]], ts: batch.ts[i], value: batch.value[i] });
  };
  const common = { ...options, maxInvalidReported: MAX_INVALID, publish };
  const parser =
    kind === 'line-protocol'
      ? new LineProtocolReadings({ ...common, now: NOW })
      : new NdjsonReadings({ ...common, format: kind === 'json' ? 'json' : 'ndjson' });
  for (const piece of pieces) await parser.write(piece);
  await parser.end();
  return { readings, accepted: parser.accepted, invalid: parser.invalid, invalidCount: parser.invalidCount };
}

const ingestOptions = fc.record({
  batchSize: fc.integer({ min: 1, max: 6 }),
  maxLineBytes: fc.oneof(fc.constant(1 << 20), fc.integer({ min: 1, max: 300 })),
});

/** A body of lines from every source: arbitrary text, mutated samples, the samples themselves. */
const body = (samples: readonly string[]) =>
  fc
    .tuple(
      fc.array(fc.oneof(anyString, mutated(samples), fc.constantFrom(...samples)), { maxLength: 12 }),
      fc.constantFrom('\n', '\r\n'),
      fc.boolean(),
    )
    .map(([lines, eol, last]) => lines.join(eol) + (last ? eol : ''));

/** The invariants every result keeps, whatever the body. */
function checkResult(kind: IngestKind, text: string, r: Awaited<ReturnType<typeof ingest>>) {
  const lines = text.split('\n').length;
  assert.equal(r.accepted, r.readings.length, 'accepted counts the readings handed on');
  assert.equal(r.invalid.length, Math.min(r.invalidCount, MAX_INVALID), 'invalid holds the first errors');
  const badLines = new Set<number>();
  for (const e of r.invalid) {
    assert.equal(typeof e.error, 'string');
    assert.ok(e.error.length > 0, 'an error names the problem');
    if ('line' in e) {
      assert.ok(Number.isInteger(e.line) && e.line >= 1 && e.line <= lines, `line ${e.line} of ${lines}`);
      badLines.add(e.line);
    } else {
      assert.equal(kind, 'json', 'only JSON arrays count items');
      assert.ok(Number.isInteger(e.item) && e.item >= 1, `item ${e.item}`);
    }
  }
  if (kind === 'ndjson') assert.ok(r.accepted + r.invalidCount <= lines, 'one reading or one error per line at most');
  else if (kind === 'line-protocol') assert.ok(badLines.size <= lines);
  for (const reading of r.readings) {
    assert.ok(SERIES_KEY_PATTERN.test(reading.series), `series ${JSON.stringify(reading.series)}`);
    assert.ok(Number.isFinite(reading.value), `value ${reading.value}`);
    assert.ok(Number.isInteger(reading.ts) && Math.abs(reading.ts) <= 8.64e15, `ts ${reading.ts}`);
  }
}

/**
 * Whether `text` has a line that LineStream.write refuses as too long when the line's end arrives in
 * a later piece, but that the line parser takes when it arrives whole: it measures the line after
 * removing its CR and after passing over blank (and, in line protocol, `#` comment) lines; the tail
 * check in write measures the raw tail. (See the `bug:` regression cases below.)
 */
function hitsTooLongTailBug(kind: IngestKind, text: string, maxLineBytes: number): boolean {
  // only a JSON body's value is still measured with its CR when cut (regressions/json-cr-counted-in-cut-value.json)
  if (kind !== 'json') return false;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return body.split('\n').some((raw) => {
    if (Buffer.byteLength(raw) <= maxLineBytes) return false;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    return Buffer.byteLength(line) <= maxLineBytes;
  });
}

for (const kind of ['ndjson', 'json', 'line-protocol'] as const) {
  const samples = kind === 'line-protocol' ? LP_SAMPLES : NDJSON_SAMPLES;
  property(
    `${kind}: any body, in any pieces, gives what it gives whole, and every error has its line and reason`,
    fc.record({ text: body(samples), cuts, options: ingestOptions }),
    async ({ text, cuts: at, options }) => {
      const whole = await ingest(kind, [text], options);
      checkResult(kind, text, whole);
      const pieces = await ingest(kind, split(text, at), options);
      checkResult(kind, text, pieces);
      // the known bug (the regression cases below) aside, the pieces a body arrives in change nothing
      if (!passOverKnownBugs || !hitsTooLongTailBug(kind, text, options.maxLineBytes))
        assert.deepEqual(pieces, whole, 'the pieces a body arrives in change nothing');
    },
    kind === 'json' ? 200 : 400,
  );
}

// found by fuzzing: a line cut across pieces was measured with its CR, and blank and comment lines
// only when cut (LineStream now measures without the CR, and every line before skipping it)
const ONE_LINE = '{"series":"a","value":1,"ts":1717200000000}';
for (const [name, kind, text, cut, maxLineBytes] of [
  [
    'ndjson: a line exactly maxLineBytes long, its CR and LF in different pieces',
    'ndjson',
    `${ONE_LINE}\r\n`,
    ONE_LINE.length + 1,
    ONE_LINE.length,
  ],
  ['ndjson: a blank line longer than maxLineBytes, cut', 'ndjson', '      \n', 5, 3],
  [
    'line protocol: a line exactly maxLineBytes long, its CR and LF in different pieces',
    'line-protocol',
    'm v=1 1\r\n',
    8,
    7,
  ],
  [
    'line protocol: a comment longer than maxLineBytes, cut (found by the fuzzer)',
    'line-protocol',
    '# a comment\n',
    6,
    1,
  ],
] as const) {
  test(`regression: ${name}`, async () => {
    const options = { batchSize: 10, maxLineBytes };
    const whole = await ingest(kind, [text], options);
    const pieces = await ingest(kind, [text.slice(0, cut), text.slice(cut)], options);
    assert.deepEqual(pieces, whole);
  });
}

// ndjson: generated valid lines are all read, with their exact values
const ndjsonLine = fc.record({
  series: seriesName(60),
  value: finiteValue,
  ts: timestampMs,
  names: fc.constantFrom(['series', 'ts'], ['sensor', 'timestamp'], ['series', 'timestamp']),
  iso: fc.boolean(),
});
property(
  'ndjson: valid lines are all accepted with their exact values',
  fc.record({ lines: fc.array(ndjsonLine, { maxLength: 20 }), cuts, options: ingestOptions, json: fc.boolean() }),
  async ({ lines, cuts: at, options, json }) => {
    const text = lines
      .map((l) =>
        JSON.stringify({
          [l.names[0]]: l.series,
          value: l.value,
          [l.names[1]]: l.iso ? new Date(l.ts).toISOString() : l.ts,
        }),
      )
      .join('\n');
    const r = await ingest(json ? 'json' : 'ndjson', split(text, at), { ...options, maxLineBytes: 1 << 20 });
    assert.deepEqual(r.invalid, []);
    assert.deepEqual(
      r.readings,
      lines.map((l) => ({ series: l.series, ts: l.ts, value: l.value })),
    );
  },
);

// line protocol: generated valid lines (any float, integer or boolean; timestamps in ns with sub-ms digits)
const lpField = fc.record({
  key: seriesName(40),
  value: fc.oneof(
    finiteValue.map((v) => ({ text: String(v), value: v })),
    fc.maxSafeInteger().map((v) => ({ text: `${v}i`, value: v })),
    fc.boolean().map((b) => ({ text: b ? 'true' : 'F', value: b ? 1 : 0 })),
  ),
});
const lpLine = fc.record({
  measurement: seriesName(40),
  tags: fc.array(fc.tuple(seriesName(10), seriesName(10)), { maxLength: 3 }),
  fields: fc.uniqueArray(lpField, { minLength: 1, maxLength: 4, selector: (f) => f.key }),
  // the time in ns as milliseconds and the nanoseconds past them (numbers: a counterexample is written as JSON)
  time: fc.option(fc.tuple(safeInteger(-1e12, 4_102_444_800_000), fc.integer({ min: 0, max: 999_999 }))),
});
/** `ms` milliseconds and `ns` nanoseconds, as ns since 1970: its milliseconds, floored, are `ms`. */
const nanoseconds = ([ms, ns]: [number, number]) => String(BigInt(ms) * 1_000_000n + BigInt(ns));
property(
  'line protocol: valid lines are all accepted with their exact values and times',
  fc.record({ lines: fc.array(lpLine, { maxLength: 12 }), cuts, options: ingestOptions }),
  async ({ lines, cuts: at, options }) => {
    const text = lines
      .map((l) => {
        const tags = l.tags.map(([k, v]) => `,${k}=${v}`).join('');
        const fields = l.fields.map((f) => `${f.key}=${f.value.text}`).join(',');
        return `${l.measurement}${tags} ${fields}${l.time === null ? '' : ` ${nanoseconds(l.time)}`}`;
      })
      .join('\n');
    const r = await ingest('line-protocol', split(text, at), { ...options, maxLineBytes: 1 << 20 });
    assert.deepEqual(r.invalid, []);
    const expected = lines.flatMap((l) =>
      l.fields.map((f) => ({
        series: `${l.measurement}/${f.key}`,
        ts: l.time === null ? NOW : l.time[0],
        value: f.value.value,
      })),
    );
    assert.deepEqual(r.readings, expected);
  },
);

property(
  'a publish failure is what write or end throws, and nothing else',
  fc.record({ text: body(NDJSON_SAMPLES), failAt: fc.nat({ max: 3 }), cuts, lp: fc.boolean() }),
  async ({ text, failAt, cuts: at, lp }) => {
    const failure = new Error('publish failed');
    let batches = 0;
    const publish = async () => {
      if (batches++ === failAt) throw failure;
    };
    const common = { batchSize: 1, maxLineBytes: 1 << 20, maxInvalidReported: 10, publish };
    const parser = lp ? new LineProtocolReadings({ ...common, now: NOW }) : new NdjsonReadings(common);
    try {
      for (const piece of split(text, at)) await parser.write(piece);
      await parser.end();
    } catch (err) {
      assert.equal(err, failure);
    }
  },
);

// ---------------------------------------------------------------------------------------------
// load-curve files

const FILE_OPTIONS = { zone: 'Europe/Lisbon', seriesPrefix: 'files' };

const sglDay = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10).replace(/-/g, ''));
const sglText = fc
  .record({
    meterPoint: fc.string({ unit: alnum, minLength: 1, maxLength: 20 }),
    day: sglDay,
    intervals: fc.integer({ min: 1, max: 12 }),
    kwh: fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 12, maxLength: 12 }),
  })
  .map((o) => sglFile({ meterPoint: o.meterPoint, day: o.day, intervals: o.intervals, kwh: (i) => o.kwh[i] / 100 }));

/** A file's lines as readFileLines hands them over: split at LF, a CR before it removed. */
const fileLines = (text: string) => {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.at(-1) === '') lines.pop();
  return lines;
};

async function parsesOrRejects(parse: () => Promise<unknown>, lines: number) {
  try {
    await parse();
  } catch (err) {
    assert.ok(err instanceof FileRejected, `expected FileRejected, got ${(err as Error)?.stack ?? err}`);
    assert.ok(Number.isInteger(err.line) && err.line >= 0 && err.line <= lines, `line ${err.line} of ${lines}`);
    assert.ok(err.reason.length > 0, 'a rejection names the problem');
    assert.equal(err.status, 400);
  }
}

property('sgl_v2: a generated file parses whole', sglText, async (text) => {
  // in UTC: in Lisbon a day when the clocks go forward has no 01:15, rightly refused
  const parsed = await parseSgl(fileLines(text), { ...FILE_OPTIONS, zone: 'UTC' });
  assert.equal(parsed.rows, fileLines(text).length - 2);
});

property(
  'sgl_v2 and delimited: mutated and arbitrary lines parse or are rejected naming a line',
  fc.record({
    text: fc.oneof(
      fc.tuple(sglText, fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([t, ms]) => mutate(t, ms)),
      fc
        .tuple(fc.constantFrom(...DELIMITED_SAMPLES), fc.array(mutation, { maxLength: 6 }))
        .map(([lines, ms]) => mutate(lines.join('\n'), ms)),
      fc.array(anyString, { maxLength: 8 }).map((lines) => lines.join('\n')),
    ),
  }),
  async ({ text }) => {
    const lines = fileLines(text);
    await parsesOrRejects(() => parseSgl(lines, FILE_OPTIONS), lines.length);
    await parsesOrRejects(() => parseDelimited(lines, FILE_OPTIONS), lines.length);
  },
);

// ---------------------------------------------------------------------------------------------
// sensor-log lines

function sensorLogOutcome(line: string, maxLineBytes?: number) {
  try {
    const event = parseSensorLog(line, { maxLineBytes });
    for (const section of Object.values(event)) {
      const values = Array.isArray(section) ? section : Object.values(section);
      for (const v of values) {
        assert.ok(['boolean', 'number', 'string'].includes(typeof v), `value ${String(v)}`);
        if (typeof v === 'number') assert.ok(Number.isFinite(v), `a number value is finite (got ${v})`);
      }
    }
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof InvalidInput, `expected InvalidInput, got ${(err as Error)?.stack ?? err}`);
    assert.ok(['invalid_log_line', 'log_line_too_long'].includes(err.code), err.code);
    assert.equal(err.status, 400);
    assert.ok(err.message.length > 0);
  }
}

property(
  'sensor log: arbitrary and mutated lines parse or are refused as invalid_log_line / log_line_too_long',
  fc.record({
    line: fc.oneof(anyString, mutated(SENSORLOG_SAMPLES), mutated(['Peaks: 1;2;3', 'Power: Active=1W; hz: 5'])),
    maxLineBytes: fc.option(fc.integer({ min: 0, max: 2000 })),
  }),
  ({ line, maxLineBytes }) => sensorLogOutcome(line, maxLineBytes ?? undefined),
  500,
);

test('regression: sensor log: a number beyond float64 is refused or kept as text, not Infinity', () => {
  const event = parseSensorLog('Peaks: 1e400; 2');
  assert.ok(
    (event.Peaks as unknown[]).every((v) => typeof v !== 'number' || Number.isFinite(v)),
    String(event.Peaks),
  );
});

// ---------------------------------------------------------------------------------------------
// time: linear in the input (harness.ts assertLinearTime)

/** Each case: a body made of `n` pathological pieces, and how to parse it. */
type TimeCase = [string, (n: number) => string, (text: string) => unknown, { n?: number; todo?: string }?];
const TIME_CASES: TimeCase[] = [
  ['line protocol: runs of backslashes', (n) => `m,t=${'\\'.repeat(n)} v=${'\\'.repeat(n)}1 1\n`, lp],
  ['line protocol: escaped spaces', (n) => `${'m\\ '.repeat(n)} v=1\n`, lp],
  ['line protocol: quotes and escapes in a string field', (n) => `m s="${'\\"\\\\'.repeat(n)}",v=1\n`, lp],
  [
    'line protocol: many fields',
    (n) => `m ${Array.from({ length: n }, (_, i) => `f${i}=1`).join(',')}\n`,
    lp,
    // was O(k²): a linear scan for an earlier field of the same series (16,384 fields took 0.6 s)
    { n: 2_048 },
  ],
  ['line protocol: many short lines', (n) => 'm v=1\n'.repeat(n), lp],
  ['json: deep brackets', (n) => '['.repeat(n), (t) => nd(t, 'json')],
  ['json: deep objects', (n) => '{"a":'.repeat(n), (t) => nd(t, 'json')],
  [
    'json: an array of many items',
    (n) => `[${'{"series":"a","value":1,"ts":1717200000000},'.repeat(n)}1]`,
    (t) => nd(t, 'json'),
  ],
  // 1 MiB and 4 MiB without a newline, against a limit of 1 MiB
  ['ndjson: one long line without a newline', (n) => 'x'.repeat(n * 64), (t) => nd(t, 'ndjson', 1 << 20)],
  ['ndjson: quotes and backslashes', (n) => `{"series":"${'\\"'.repeat(n)}"}\n`, (t) => nd(t, 'ndjson')],
  ['sensor log: words without a colon (issue #11)', (n) => `${'a '.repeat(n)}!`, (t) => tryIt(() => parseSensorLog(t))],
  ['sensor log: one long list', (n) => `Peaks: ${'1.5;'.repeat(n)}`, (t) => tryIt(() => parseSensorLog(t))],
  [
    'delimited: one long row',
    (n) => `time;${'1;'.repeat(n)}`,
    (t) => parseDelimited(t.split('\n'), FILE_OPTIONS).catch(() => {}),
  ],
];

function lp(text: string) {
  return feed(
    new LineProtocolReadings({
      batchSize: 1000,
      maxLineBytes: 1 << 24,
      maxInvalidReported: 10,
      now: NOW,
      publish: async () => {},
    }),
    text,
  );
}
function nd(text: string, format: 'json' | 'ndjson', maxLineBytes = 1 << 24) {
  return feed(
    new NdjsonReadings({ batchSize: 1000, maxLineBytes, maxInvalidReported: 10, format, publish: async () => {} }),
    text,
  );
}
/** In 64 KiB pieces, as a socket hands a body over. */
async function feed(parser: NdjsonReadings | LineProtocolReadings, text: string) {
  for (let i = 0; i < text.length; i += 65_536) await parser.write(text.slice(i, i + 65_536));
  await parser.end();
}
function tryIt(run: () => unknown) {
  try {
    run();
  } catch {}
}

// Timings do not belong in `npm test` (a loaded CI machine makes them flaky): see harness.ts.
for (const [name, make, parse, { n = 16_384, todo } = {}] of TIME_CASES) {
  test(`time is linear in the input: ${name}`, { todo, skip: TIMING_SKIP }, async () => {
    const inputs = { small: make(n), large: make(4 * n) };
    await assertLinearTime((size) => parse(inputs[size]));
  });
}

// ---------------------------------------------------------------------------------------------
// regressions: counterexamples written by `npm run fuzz`, replayed as they are

for (const [file, record] of REGRESSIONS.records<never>()) {
  test(`regression ${file}`, { todo: record.todo }, async () => {
    const predicate = PROPERTIES.get(record.property);
    assert.ok(predicate, `no property named "${record.property}"`);
    passOverKnownBugs = false;
    try {
      await predicate(record.input);
    } finally {
      passOverKnownBugs = true;
    }
  });
}
