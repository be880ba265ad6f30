import assert from 'node:assert/strict';
import { StringDecoder } from 'node:string_decoder';
import { test } from 'node:test';
import type { ReadingBatch } from '../../core/readings.js';
import { LineProtocolReadings, type LineProtocolOptions } from './line-protocol.js';

const T = Date.UTC(2024, 5, 1); // 1717200000000
const NS = `${T}000000`; // 19 digits
const NOW = Date.UTC(2024, 5, 2, 12);

type Options = Partial<Omit<LineProtocolOptions, 'publish' | 'maxInvalidReported'>>;

/** Feeds `body` in pieces of `pieceBytes` bytes (or cut at the given byte offsets), as a socket would. */
async function parse(body: string, pieces: number | number[] = 1 << 20, options: Options = {}) {
  const readings: { series: string; ts: number; value: number }[] = [];
  const batchLengths: number[] = [];
  const tags: [string, Record<string, string>][] = [];
  const parser = new LineProtocolReadings({
    ...options,
    now: options.now ?? NOW,
    batchSize: options.batchSize ?? 3,
    maxLineBytes: options.maxLineBytes ?? 1000,
    maxInvalidReported: 100,
    publish: async (batch: ReadingBatch) => {
      batchLengths.push(batch.length);
      // the tags a series' first reading carries as series meta (none: no tags)
      batch.keys.forEach((key, k) => {
        const t = batch.meta?.[k]?.tags;
        if (t) tags.push([key, t]);
      });
      for (let i = 0; i < batch.length; i++)
        readings.push({ series: batch.keys[batch.keyIndex[i]], ts: batch.ts[i], value: batch.value[i] });
    },
  });
  const bytes = Buffer.from(body);
  const cuts =
    typeof pieces === 'number'
      ? Array.from({ length: Math.ceil(bytes.length / pieces) }, (_, i) => i * pieces).slice(1)
      : pieces;
  const decoder = new StringDecoder('utf8');
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    await parser.write(decoder.write(bytes.subarray(from, cut)));
    from = cut;
  }
  await parser.write(decoder.end());
  await parser.end();
  return {
    readings,
    accepted: parser.accepted,
    invalid: parser.invalid,
    invalidCount: parser.invalidCount,
    tags,
    batchLengths,
  };
}

const values = async (body: string, options: Options = {}) =>
  (await parse(body, 1 << 20, options)).readings.map((r) => [r.series, r.value]);

test('escapes in measurement, tag keys, tag values and field keys are read as InfluxDB reads them', async () => {
  const line = `my\\ meter\\,x,tag\\ key\\,a\\=b=val\\ 1\\,2\\=3,path=C:\\\\dir\\x,q="x" field\\ one\\=x\\,y=1 ${NS}`;
  // the line as sent: my\ meter\,x,tag\ key\,a\=b=val\ 1\,2\=3,path=C:\\dir\x,q="x" field\ one\=x\,y=1 …
  const r = await parse(line, 1 << 20, { seriesTags: ['tag key,a=b', 'path', 'q'] });
  assert.deepEqual(r.invalid, []);
  assert.deepEqual(r.readings, [{ series: 'my_meter_x/val_1_2_3/C:__dir_x/_x_/field_one_x_y', ts: T, value: 1 }]);
  // the tags told are the unescaped originals: a backslash before anything but , = space is itself
  assert.deepEqual(r.tags, [
    [
      'my_meter_x/val_1_2_3/C:__dir_x/_x_/field_one_x_y',
      { 'tag key,a=b': 'val 1,2=3', path: 'C:\\\\dir\\x', q: '"x"' },
    ],
  ]);

  // in a measurement `=` needs no escape, so `\=` is a backslash and `=`; `\\,` is a backslash and an escaped comma
  assert.deepEqual(await values(`m\\=x v=1 ${NS}\nm\\\\,t=1 v=2 ${NS}`), [
    ['m__x/v', 1],
    ['m__t_1/v', 2],
  ]);
  const names = await parse(`m\\\\,t=1 v=2 ${NS}`);
  assert.deepEqual(names.tags, [], 'a series without tags carries none');
});

test('a string field is left out without an error, whatever it holds, and the line’s other fields are kept', async () => {
  const body = [
    `m,host=a state="on, off = \\"x\\" \\\\",power=5,note="a b\\\\",energy=7 ${NS}`,
    `m state="no numbers here" ${NS}`,
  ].join('\n');
  const r = await parse(body);
  assert.deepEqual(r.readings, [
    { series: 'm/power', ts: T, value: 5 },
    { series: 'm/energy', ts: T, value: 7 },
  ]);
  // Home Assistant sends state="on" beside its numbers: not an error, so not a 400 on every write
  assert.deepEqual(r.invalid, []);
  assert.equal(r.accepted, 2);
});

test('floats, integers (i, u) and every boolean spelling become numbers', async () => {
  const fields = 'a=1,b=1.5,c=-1e3,d=1.,e=.5,f=-0.25,g=2E+2,h=12i,i=-7i,j=12u,k=0u,l=1234567.125';
  assert.deepEqual(await values(`m ${fields} ${NS}`), [
    ['m/a', 1],
    ['m/b', 1.5],
    ['m/c', -1000],
    ['m/d', 1],
    ['m/e', 0.5],
    ['m/f', -0.25],
    ['m/g', 200],
    ['m/h', 12],
    ['m/i', -7],
    ['m/j', 12],
    ['m/k', 0],
    ['m/l', 1234567.125],
  ]);
  const spellings = ['t', 'T', 'true', 'True', 'TRUE', 'f', 'F', 'false', 'False', 'FALSE'];
  assert.deepEqual(
    await values(spellings.map((s, i) => `b,n=${i} on=${s} ${NS}`).join('\n'), { batchSize: 100 }),
    spellings.map((s) => ['b/on', s.toLowerCase().startsWith('t') ? 1 : 0]),
  );
  // 16+ significant digits take the slow path and still read as Number() reads them
  assert.deepEqual(await values(`m x=0.1000000000000000055511151231257827 ${NS}`), [['m/x', 0.1]]);
});

test('field values outside the grammar refuse the line; integers past 2^53 refuse the field', async () => {
  const bad = ['abc', '1.5i', '-1u', 'tru', '+1', '1e', '1..2', '"x"y', 'NaN', '1e999', '12 34'];
  const r = await parse(bad.map((v) => `m x=${v},ok=1 ${NS}`).join('\n'), 1 << 20, { batchSize: 100 });
  assert.deepEqual(r.invalid, [
    { line: 1, error: 'invalid field value "abc" for field "x"' },
    { line: 2, error: 'invalid field value "1.5i" for field "x"' },
    { line: 3, error: 'invalid field value "-1u" for field "x"' },
    { line: 4, error: 'invalid field value "tru" for field "x"' },
    { line: 5, error: 'invalid field value "+1" for field "x"' },
    { line: 6, error: 'invalid field value "1e" for field "x"' },
    { line: 7, error: 'invalid field value "1..2" for field "x"' },
    { line: 8, error: 'invalid field value "\\"x\\"y" for field "x"' },
    { line: 9, error: 'invalid field value "NaN" for field "x"' },
    { line: 10, error: 'invalid field value "1e999" for field "x"' },
    // `12 34` is the value 12 and the timestamp 34, then `,ok=1` after the timestamp
    { line: 11, error: 'invalid timestamp "34,ok=1"' },
  ]);
  assert.deepEqual(r.readings, []);

  const big = await parse(`m x=9007199254740993i,y=9007199254740991i,z=18446744073709551615u ${NS}`);
  assert.deepEqual(big.readings, [{ series: 'm/y', ts: T, value: 9007199254740991 }]);
  assert.deepEqual(big.invalid, [
    {
      line: 1,
      error:
        'field "x" is the integer 9007199254740993i, beyond ±2^53: Wattline stores numbers (float64) and would round it',
    },
    {
      line: 1,
      error:
        'field "z" is the integer 18446744073709551615u, beyond ±2^53: Wattline stores numbers (float64) and would round it',
    },
  ]);
});

test('timestamps: every precision, 19-digit nanoseconds to the millisecond, negative, and now when absent', async () => {
  const at = async (line: string, precision?: LineProtocolOptions['precision']) =>
    (await parse(line, 1 << 20, { precision })).readings.map((r) => r.ts);
  assert.deepEqual(await at(`m v=1 ${T + 123}456789`), [T + 123]); // 1717200000123456789 ns: not rounded away
  assert.deepEqual(await at(`m v=1 ${T}999999`), [T]); // sub-millisecond floored
  assert.deepEqual(await at(`m v=1 ${T + 123}456`, 'us'), [T + 123]);
  assert.deepEqual(await at(`m v=1 ${T + 7}`, 'ms'), [T + 7]);
  assert.deepEqual(await at(`m v=1 ${T / 1000}`, 's'), [T]);
  assert.deepEqual(await at(`m v=1 ${T / 60_000}`, 'm'), [T]);
  assert.deepEqual(await at(`m v=1 ${T / 3_600_000}`, 'h'), [T]);
  assert.deepEqual(await at('m v=1 0000000000000000000'), [0]);
  assert.deepEqual(await at('m v=1 -1500000'), [-2]); // -1.5 ms floors to -2, as any instant before 1970
  assert.deepEqual(await at('m v=1 -1', 's'), [-1000]);
  assert.deepEqual(await at('m v=1'), [NOW]);
  assert.deepEqual(await at('m v=1   '), [NOW]);
  assert.deepEqual(await at(`m  v=1   ${NS}  `), [T]); // runs of spaces separate the parts

  const r = await parse(['m v=1 12a', 'm v=1 -', 'm v=1 1 2', 'm v=1 99999999999999999999'].join('\n'));
  assert.deepEqual(r.invalid, [
    { line: 1, error: 'invalid timestamp "12a"' },
    { line: 2, error: 'invalid timestamp "-"' },
    { line: 3, error: 'unexpected text after the timestamp: "2"' },
    { line: 4, error: 'timestamp 99999999999999999999 is out of range (precision ns)' },
  ]);
});

test('readings before minTime or past now + maxFutureMs are refused by line, the others kept', async () => {
  const r = await parse(
    [`m v=1 ${Date.UTC(2031, 0, 1)}`, `m v=2 ${T}`, `m v=3 ${Date.UTC(1999, 11, 31)}`, 'm v=4'].join('\n'),
    1 << 20,
    { precision: 'ms', minTime: Date.UTC(2000, 0, 1), maxFutureMs: 730 * 86_400_000 },
  );
  assert.deepEqual(
    r.readings.map((x) => [x.value, x.ts]),
    [
      [2, T],
      [4, NOW],
    ],
  );
  assert.deepEqual(r.invalid, [
    { line: 1, error: 'timestamp 2031-01-01T00:00:00.000Z is more than 730 days in the future (ingest.maxFutureMs)' },
    { line: 3, error: 'timestamp 1999-12-31T00:00:00.000Z is before 2000-01-01T00:00:00.000Z (ingest.minTime)' },
  ]);
});

test('comments, blank lines and CRLF are skipped but counted; a BOM is not part of line 1', async () => {
  const body = `\uFEFF# Telegraf\r\nm v=1 ${NS}\r\n\r\n   \n  # indented comment\nbad\r\n  m v=2 ${NS}\r\n`;
  const r = await parse(body);
  assert.deepEqual(
    r.readings.map((x) => x.value),
    [1, 2],
  );
  assert.deepEqual(r.invalid, [{ line: 6, error: 'missing field set' }]);
});

const mixed = [
  '# power meters ⚡',
  `power,meter=m001,site=Gebäude\\ Süd value=1234.5,state="ok" ${NS}`,
  `power,meter=m002 value=-1e3,on=T,count=7i ${T}000001`,
  'broken line',
  `temp\\,°C,room=küche value=21.5 ${NS}`,
  `power,meter=m001,site=Gebäude\\ Süd value=1235.5 ${T + 1000}000000`,
].join('\r\n');

test('a body cut at every byte offset, or byte by byte, parses the same as whole', async () => {
  const options: Options = { seriesTags: ['meter', 'room'] };
  const whole = await parse(mixed, 1 << 20, options);
  assert.deepEqual(whole.readings, [
    { series: 'power/m001/value', ts: T, value: 1234.5 },
    { series: 'power/m002/value', ts: T, value: -1000 },
    { series: 'power/m002/on', ts: T, value: 1 },
    { series: 'power/m002/count', ts: T, value: 7 },
    { series: 'temp__C/k_che/value', ts: T, value: 21.5 },
    { series: 'power/m001/value', ts: T + 1000, value: 1235.5 },
  ]);
  assert.deepEqual(whole.invalid, [
    { line: 4, error: 'missing "=" after field key "line"' }, // `broken` is the measurement
  ]);
  const length = Buffer.byteLength(mixed);
  for (let cut = 1; cut < length; cut++) assert.deepEqual(await parse(mixed, [cut], options), whole, `cut at ${cut}`);
  for (const piece of [1, 2, 3, 7]) assert.deepEqual(await parse(mixed, piece, options), whole, `pieces of ${piece}`);
});

test('bad lines are named by number with the reason; the good lines of the same body are stored', async () => {
  const body = [
    `m v=1 ${NS}`,
    'm',
    'm ',
    `,t=1 v=1 ${NS}`,
    `m,t v=1 ${NS}`,
    `m,t= v=1 ${NS}`,
    `m,=x v=1 ${NS}`,
    `m,t=a=b v=1 ${NS}`,
    `m v ${NS}`,
    `m v= ${NS}`,
    `m =1 ${NS}`,
    `m v=1, ${NS}`,
    `m v="open ${NS}`,
    `m v=1,w=2 ${NS}`,
  ].join('\n');
  const r = await parse(body, 5);
  assert.deepEqual(r.invalid, [
    { line: 2, error: 'missing field set' },
    { line: 3, error: 'missing field set' },
    { line: 4, error: 'missing measurement' },
    { line: 5, error: 'missing "=" after tag key "t"' },
    { line: 6, error: 'tag "t" has no value' },
    { line: 7, error: 'empty tag key' },
    { line: 8, error: 'unescaped "=" in the value of tag "t"' },
    { line: 9, error: 'missing "=" after field key "v"' },
    { line: 10, error: 'missing value for field "v"' },
    { line: 11, error: 'field with no key' },
    { line: 12, error: 'missing field after ","' },
    { line: 13, error: 'unbalanced quotes in the value of field "v"' },
  ]);
  assert.deepEqual(
    r.readings.map((x) => [x.series, x.value]),
    [
      ['m/v', 1],
      ['m/v', 1],
      ['m/w', 2],
    ],
  );
  assert.equal(r.accepted, 3);
});

test('series are named by measurement, the seriesTags present in their order, and field; tags told once', async () => {
  const body = [
    `power,site=berlin,meter=m1,phase=L1 p=1,q=2 ${NS}`,
    `power,phase=L2,meter=m1,site=berlin p=3 ${NS}`, // same series: phase is no series tag
    `power,site=paris p=4 ${NS}`, // no meter: that part is left out
    `power p=5 ${NS}`,
  ].join('\n');
  const r = await parse(body, 1 << 20, { seriesTags: ['meter', 'site'], batchSize: 100 });
  assert.deepEqual(
    r.readings.map((x) => [x.series, x.value]),
    [
      ['power/m1/berlin/p', 1],
      ['power/m1/berlin/q', 2],
      ['power/m1/berlin/p', 3],
      ['power/paris/p', 4],
      ['power/p', 5],
    ],
  );
  assert.deepEqual(r.tags, [
    ['power/m1/berlin/p', { site: 'berlin', meter: 'm1', phase: 'L1' }],
    ['power/m1/berlin/q', { site: 'berlin', meter: 'm1', phase: 'L1' }],
    ['power/paris/p', { site: 'paris' }],
  ]);
  // without seriesTags, tags name nothing
  assert.deepEqual(await values(`power,meter=m1 p=1 ${NS}`), [['power/p', 1]]);
});

test('names are made fit for series keys; what cannot be is refused, saying why', async () => {
  const long = 'f'.repeat(200);
  const r = await parse(
    [
      `cpu\\ load v=1 ${NS}`,
      `temp°C,sensor=🌡 °F=2 ${NS}`,
      `_internal v=3 ${NS}`,
      `°,a=b v=4 ${NS}`,
      `m ${long}=5,ok=6 ${NS}`,
    ].join('\n'),
    1 << 20,
    { seriesTags: ['sensor'], batchSize: 100 },
  );
  assert.deepEqual(
    r.readings.map((x) => [x.series, x.value]),
    [
      ['cpu_load/v', 1],
      ['temp_C/_/_F', 2], // one _ per character, an emoji's surrogate pair included
      ['internal/v', 3], // leading characters other than letters and digits are dropped
      ['m/ok', 6],
    ],
  );
  assert.deepEqual(r.invalid, [
    { line: 4, error: 'measurement "°" has no letter or digit to name a series by' },
    {
      line: 5,
      error: `series key "m/${'f'.repeat(38)}…" of field "${'f'.repeat(40)}…" is longer than 200 characters`,
    },
  ]);
});

test('a field given twice in a line keeps the last value, as InfluxDB does', async () => {
  assert.deepEqual(await values(`m v=1,w=2,v=3 ${NS}`), [
    ['m/v', 3],
    ['m/w', 2],
  ]);
});

test('an over-long line is refused by number, in pieces too, counting UTF-8 bytes', async () => {
  const long = `m,pad=${'p'.repeat(120)} v=1 ${NS}`;
  const wide = `m,pad=${'⚡'.repeat(35)} v=1`; // 45 characters, 115 bytes
  const body = [`a v=1 ${NS}`, long, `b v=2 ${NS}`, wide, long].join('\n');
  for (const piece of [5, 64, 4096]) {
    const r = await parse(body, piece, { maxLineBytes: 100 });
    assert.deepEqual(
      r.invalid,
      [
        { line: 2, error: 'line is longer than 100 bytes' },
        { line: 4, error: 'line is longer than 100 bytes' },
        { line: 5, error: 'line is longer than 100 bytes' },
      ],
      `pieces of ${piece}`,
    );
    assert.deepEqual(
      r.readings.map((x) => x.series),
      ['a/v', 'b/v'],
    );
  }
});

test('batches are split at batchSize, a line with more fields than a batch holds included', async () => {
  const lines = Array.from({ length: 7 }, (_, i) => `m v=${i} ${NS}`).join('\n');
  const r = await parse(lines, 1 << 20, { batchSize: 3 });
  assert.deepEqual(r.batchLengths, [3, 3, 1]);
  assert.equal(r.accepted, 7);

  const wide = await parse(`m a=1,b=2,c=3,d=4,e=5 ${NS}\nm f=6 ${NS}`, 1 << 20, { batchSize: 2 });
  assert.deepEqual(wide.batchLengths, [2, 2, 2]);
  assert.deepEqual(
    wide.readings.map((x) => x.value),
    [1, 2, 3, 4, 5, 6],
  );
  const fits = await parse(`m a=1 ${NS}\nm b=2,c=3,d=4 ${NS}`, 1 << 20, { batchSize: 3 });
  assert.deepEqual(fits.batchLengths, [3, 1]);
});

test('a publish failure reaches the caller, and nothing is counted as accepted', async () => {
  const failure = new Error('disk full');
  const parser = new LineProtocolReadings({
    batchSize: 2,
    maxLineBytes: 1000,
    maxInvalidReported: 10,
    now: NOW,
    publish: () => Promise.reject(failure),
  });
  const body = Array.from({ length: 10 }, (_, i) => `m v=${i} ${NS}`).join('\n');
  await assert.rejects(async () => {
    await parser.write(body);
    await parser.end();
  }, failure);
  assert.equal(parser.accepted, 0);
});
