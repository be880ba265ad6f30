import assert from 'node:assert/strict';
import { StringDecoder } from 'node:string_decoder';
import { test } from 'node:test';
import type { ReadingBatch } from '../../core/readings.js';
import { NdjsonReadings, type NdjsonReadingsOptions } from './ndjson.js';

// an instant with 13 digits in epoch ms (small numbers are no epoch unit any more)
const T = Date.UTC(2024, 5, 1);

/** Feeds `body` in pieces of `pieceBytes` bytes, as a socket would, and collects the readings. */
async function parse(
  body: string,
  pieceBytes: number,
  options: Partial<Omit<NdjsonReadingsOptions, 'publish' | 'maxInvalidReported'>> = {},
) {
  const readings: { series: string; ts: number; value: number }[] = [];
  const parser = new NdjsonReadings({
    ...options,
    batchSize: options.batchSize ?? 3,
    maxLineBytes: options.maxLineBytes ?? 1000,
    maxInvalidReported: 100,
    publish: async (batch: ReadingBatch) => {
      for (let i = 0; i < batch.length; i++)
        readings.push({ series: batch.keys[batch.keyIndex[i]], ts: batch.ts[i], value: batch.value[i] });
    },
  });
  const bytes = Buffer.from(body);
  const decoder = new StringDecoder('utf8');
  for (let i = 0; i < bytes.length; i += pieceBytes)
    await parser.write(decoder.write(bytes.subarray(i, i + pieceBytes)));
  await parser.write(decoder.end());
  await parser.end();
  return { readings, accepted: parser.accepted, invalid: parser.invalid };
}

const body = [
  `{"series":"meter","value":1,"ts":${T + 1},"note":"Zähler ⚡ Gebäude"}`, // multi-byte characters split across pieces
  '{"sensor":"speed","value":2.5,"timestamp":"2024-06-01T00:00:00.002Z"}\r',
  '',
  '   ',
  `{"series":"x","value":3,"ts":${T + 3},"unit":"W"}`,
  `{"series":"x","value":4,"ts":${T + 4}}`, // no newline at the end
].join('\n');

test('lines split anywhere by the network parse the same, CRLF and blank lines included', async () => {
  const whole = await parse(body, 1 << 20);
  assert.deepEqual(whole.invalid, []);
  assert.equal(whole.accepted, 4);
  assert.deepEqual(whole.readings, [
    { series: 'meter', ts: T + 1, value: 1 },
    { series: 'speed', ts: T + 2, value: 2.5 },
    { series: 'x', ts: T + 3, value: 3 },
    { series: 'x', ts: T + 4, value: 4 },
  ]);
  for (const piece of [1, 2, 3, 7, 13]) assert.deepEqual(await parse(body, piece), whole, `pieces of ${piece} bytes`);
});

test('an over-long line is reported by its number even when it arrives in pieces', async () => {
  const long = `{"series":"x","value":1,"ts":0,"pad":"${'p'.repeat(200)}"}`;
  const text = ['{"series":"a","value":1,"ts":0}', long, '{"series":"b","value":2,"ts":0}', long].join('\n');
  for (const piece of [5, 64, 4096]) {
    const r = await parse(text, piece, { maxLineBytes: 100 });
    assert.deepEqual(
      r.invalid,
      [
        { line: 2, error: 'line is longer than 100 bytes' },
        { line: 4, error: 'line is longer than 100 bytes' },
      ],
      `pieces of ${piece}`,
    );
    assert.deepEqual(
      r.readings.map((x) => x.series),
      ['a', 'b'],
    );
  }
});

test('a key seen only on bad lines does not reach the batch', async () => {
  const r = await parse('{"series":"ghost","value":"x","ts":0}\n{"series":"real","value":1,"ts":0}\n', 1 << 20);
  assert.deepEqual(
    r.readings.map((x) => x.series),
    ['real'],
  );
});

test('the line limit counts UTF-8 bytes, not characters', async () => {
  // 30 "⚡" are 90 bytes: the line is over a 100-byte limit although it has under 100 characters
  const wide = `{"series":"w","value":1,"ts":0,"n":"${'⚡'.repeat(30)}"}`;
  assert.ok(wide.length < 100 && Buffer.byteLength(wide) > 100);
  const narrow = `{"series":"n","value":2,"ts":0,"n":"${'a'.repeat(20)}"}`;
  for (const piece of [7, 4096]) {
    const r = await parse([narrow, wide, narrow].join('\n'), piece, { maxLineBytes: 100 });
    assert.deepEqual(r.invalid, [{ line: 2, error: 'line is longer than 100 bytes' }], `pieces of ${piece}`);
    assert.equal(r.accepted, 2);
  }
});

test('a UTF-8 byte order mark before the first line is skipped', async () => {
  const text = '\uFEFF{"series":"bom","value":1,"ts":0}\n{"series":"bom","value":2,"ts":0}\n';
  for (const piece of [1, 2, 4096]) {
    const r = await parse(text, piece);
    assert.deepEqual(r.invalid, [], `pieces of ${piece}`);
    assert.equal(r.accepted, 2);
  }
});

test('epoch numbers are read by precision or by their number of digits; others are refused with the reason', async () => {
  const lines = [
    '{"series":"s","value":1,"ts":1717200000}', // seconds: 2024-06-01, not January 1970
    '{"series":"ms","value":1,"ts":1717200000000}',
    '{"series":"us","value":1,"ts":"1717200000000000"}',
    '{"series":"ns","value":1,"ts":1717200000000000000}',
    '{"series":"small","value":1,"ts":1000}',
    '{"series":"zero","value":1,"ts":0}',
  ].join('\n');
  const r = await parse(lines, 1 << 20);
  assert.deepEqual(
    r.readings.map((x) => [x.series, x.ts]),
    [
      ['s', T],
      ['ms', T],
      ['us', T],
      ['ns', T],
      ['zero', 0],
    ],
  );
  assert.equal(r.invalid.length, 1);
  assert.deepEqual(Object.keys(r.invalid[0]), ['line', 'error']);
  assert.equal((r.invalid[0] as { line: number }).line, 5);
  assert.match(r.invalid[0].error, /ts 1000 has 4 digits, which is no epoch unit/);

  const byPrecision = await parse('{"series":"p","value":1,"timestamp":1717200000123}\n', 1 << 20, { precision: 'ms' });
  assert.deepEqual(byPrecision.readings, [{ series: 'p', ts: T + 123, value: 1 }]);
  const tenSeconds = await parse('{"series":"p","value":1,"timestamp":10}\n', 1 << 20, { precision: 's' });
  assert.deepEqual(tenSeconds.readings, [{ series: 'p', ts: 10_000, value: 1 }]);
});

test('dates and times that do not exist are refused, saying why and naming the field sent', async () => {
  const r = await parse(
    [
      '{"series":"x","value":1,"ts":"2024-02-30"}',
      '{"series":"x","value":1,"timestamp":"2023-02-29T00:00:00Z"}',
      '{"series":"x","value":1,"ts":"2024-06-01T24:00:00Z"}',
      '{"series":"x","value":1,"ts":"2024-02-29T00:00:00Z"}',
    ].join('\n'),
    1 << 20,
  );
  assert.equal(r.accepted, 1);
  assert.deepEqual(
    r.invalid.map((i) => i.error),
    [
      'ts "2024-02-30" is not a real time: 2024-02 has no day 30 (it has 29 days)',
      'timestamp "2023-02-29T00:00:00Z" is not a real time: 2023-02 has no day 29 (it has 28 days)',
      'ts "2024-06-01T24:00:00Z" is not a real time: hour 24 does not exist (00–23; write 24:00 as 00:00 of the next day)',
    ],
  );
});

test('readings before minTime or further in the future than maxFutureMs are refused, the others kept', async () => {
  const r = await parse(
    [
      '{"series":"x","value":1,"ts":"9999-12-31T00:00:00Z"}',
      `{"series":"x","value":2,"ts":${T}}`,
      '{"series":"x","value":3,"ts":"1999-12-31T23:59:59Z"}',
      '{"series":"x","value":4,"ts":"2000-01-01T00:00:00Z"}',
    ].join('\n'),
    1 << 20,
    { minTime: Date.UTC(2000, 0, 1), maxFutureMs: 63_072_000_000 },
  );
  assert.deepEqual(
    r.readings.map((x) => x.value),
    [2, 4],
  );
  assert.deepEqual(r.invalid, [
    { line: 1, error: 'ts 9999-12-31T00:00:00.000Z is more than 730 days in the future (ingest.maxFutureMs)' },
    { line: 3, error: 'ts 1999-12-31T23:59:59.000Z is before 2000-01-01T00:00:00.000Z (ingest.minTime)' },
  ]);
});

const items = [
  { series: 'a', value: 1, ts: T },
  { series: 'b', value: 2, ts: T, note: '{[' }, // brackets inside strings are text
  { series: 'c', value: 3, ts: T, note: 'say "hi" \\ }],' },
];

test('a JSON body (one object, an array of objects or NDJSON) parses the same split anywhere', async () => {
  const bodies = {
    array: JSON.stringify(items),
    pretty: JSON.stringify(items, null, 2),
    object: JSON.stringify(items[0], null, 2),
    ndjson: items.map((i) => JSON.stringify(i)).join('\n'),
    arrays: `${JSON.stringify(items.slice(0, 1))}\n${JSON.stringify(items.slice(1))}\n`,
    empty: ' [ ] ',
  };
  for (const [name, text] of Object.entries(bodies)) {
    const whole = await parse(text, 1 << 20, { format: 'json' });
    assert.deepEqual(whole.invalid, [], name);
    const expected = name === 'empty' ? 0 : name === 'object' ? 1 : 3;
    assert.equal(whole.accepted, expected, name);
    for (const piece of [1, 2, 5, 17])
      assert.deepEqual(await parse(text, piece, { format: 'json' }), whole, `${name} in pieces of ${piece}`);
  }
});

test('bad values in a JSON array are reported by item number (from 1), in NDJSON under application/json by line', async () => {
  const array = `[\n  {"series":"a","value":1,"ts":${T}},\n  {"series":"a","value":"x","ts":${T}},\n  7,\n  {"series":"a","value":2,"ts":${T}, "pad":"${'p'.repeat(200)}"},\n  {"series":"a","value":3,"ts":${T}}\n]`;
  for (const piece of [3, 1 << 20]) {
    const r = await parse(array, piece, { format: 'json', maxLineBytes: 100 });
    assert.equal(r.accepted, 2);
    assert.deepEqual(r.invalid, [
      { item: 2, error: 'value is not a finite number' },
      { item: 3, error: 'line must be a JSON object with series (or sensor), value and ts (or timestamp)' },
      { item: 4, error: 'line is longer than 100 bytes' },
    ]);
  }
  const lines = `{"series":"a","value":1,"ts":${T}}\n\nnot json\n{"series":"a","value":"x",\n "ts":${T}}\n`;
  const r = await parse(lines, 4, { format: 'json' });
  assert.equal(r.accepted, 1);
  assert.deepEqual(r.invalid, [
    { line: 3, error: 'line is not valid JSON' },
    { line: 4, error: 'value is not a finite number' },
  ]);
});
