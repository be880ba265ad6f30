import assert from 'node:assert/strict';
import { StringDecoder } from 'node:string_decoder';
import { test } from 'node:test';
import type { ReadingBatch } from '../../core/readings.js';
import { NdjsonReadings } from './ndjson.js';

/** Feeds `body` in pieces of `pieceBytes` bytes, as a socket would, and collects the readings. */
async function parse(body: string, pieceBytes: number, options: { batchSize?: number; maxLineBytes?: number } = {}) {
  const readings: { series: string; ts: number; value: number }[] = [];
  const parser = new NdjsonReadings({
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
  '{"series":"meter","value":1,"ts":1,"note":"Zähler ⚡ Gebäude"}', // multi-byte characters split across pieces
  '{"sensor":"speed","value":2.5,"timestamp":"1970-01-01T00:00:00.002Z"}\r',
  '',
  '   ',
  '{"series":"x","value":3,"ts":3,"unit":"W"}',
  '{"series":"x","value":4,"ts":4}', // no newline at the end
].join('\n');

test('lines split anywhere by the network parse the same, CRLF and blank lines included', async () => {
  const whole = await parse(body, 1 << 20);
  assert.deepEqual(whole.invalid, []);
  assert.equal(whole.accepted, 4);
  assert.deepEqual(whole.readings, [
    { series: 'meter', ts: 1, value: 1 },
    { series: 'speed', ts: 2, value: 2.5 },
    { series: 'x', ts: 3, value: 3 },
    { series: 'x', ts: 4, value: 4 },
  ]);
  for (const piece of [1, 2, 3, 7, 13]) assert.deepEqual(await parse(body, piece), whole, `pieces of ${piece} bytes`);
});

test('an over-long line is reported by its number even when it arrives in pieces', async () => {
  const long = `{"series":"x","value":1,"ts":1,"pad":"${'p'.repeat(200)}"}`;
  const text = ['{"series":"a","value":1,"ts":1}', long, '{"series":"b","value":2,"ts":2}', long].join('\n');
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
  const r = await parse('{"series":"ghost","value":"x","ts":1}\n{"series":"real","value":1,"ts":1}\n', 1 << 20);
  assert.deepEqual(
    r.readings.map((x) => x.series),
    ['real'],
  );
});

test('the line limit counts UTF-8 bytes, not characters', async () => {
  // 30 "⚡" are 90 bytes: the line is over a 100-byte limit although it has under 100 characters
  const wide = `{"series":"w","value":1,"ts":1,"n":"${'⚡'.repeat(30)}"}`;
  assert.ok(wide.length < 100 && Buffer.byteLength(wide) > 100);
  const narrow = `{"series":"n","value":2,"ts":2,"n":"${'a'.repeat(20)}"}`;
  for (const piece of [7, 4096]) {
    const r = await parse([narrow, wide, narrow].join('\n'), piece, { maxLineBytes: 100 });
    assert.deepEqual(r.invalid, [{ line: 2, error: 'line is longer than 100 bytes' }], `pieces of ${piece}`);
    assert.equal(r.accepted, 2);
  }
});

test('a UTF-8 byte order mark before the first line is skipped', async () => {
  const text = '\uFEFF{"series":"bom","value":1,"ts":1}\n{"series":"bom","value":2,"ts":2}\n';
  for (const piece of [1, 2, 4096]) {
    const r = await parse(text, piece);
    assert.deepEqual(r.invalid, [], `pieces of ${piece}`);
    assert.equal(r.accepted, 2);
  }
});
