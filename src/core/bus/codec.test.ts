import assert from 'node:assert/strict';
import { test } from 'node:test';
import { READINGS_TOPIC, ReadingBatchBuilder, type ReadingBatch } from '../readings.js';
import { CodecError, defaultCodecs, jsonCodec, readingBatchCodec, sliceBatch } from './codec.js';

/** Bytes of a typed array's visible part, for byte-exact comparison (NaN payloads, -0). */
const bytesOf = (a: Float64Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function assertSameBatch(actual: ReadingBatch, expected: ReadingBatch) {
  assert.equal(actual.length, expected.length);
  assert.deepEqual(actual.keys, expected.keys);
  assert.deepEqual(bytesOf(actual.keyIndex), bytesOf(expected.keyIndex.subarray(0, expected.length)));
  assert.deepEqual(bytesOf(actual.ts), bytesOf(expected.ts.subarray(0, expected.length)));
  assert.deepEqual(bytesOf(actual.value), bytesOf(expected.value.subarray(0, expected.length)));
}

/** A NaN with a payload: survives only if the codec copies bytes rather than numbers. */
function payloadNaN(): number {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, 0x7ff8_0000_dead_beefn, true);
  return new Float64Array(b.buffer)[0];
}

function sampleBatch(): ReadingBatch {
  const builder = new ReadingBatchBuilder(16); // capacity above length: only `length` rows travel
  builder.add({ series: 'home/meter/power', ts: 1_717_200_000_000, value: 1234.5 });
  builder.add({ series: 'home/solar/power', ts: 1_717_200_000_000, value: -0 });
  builder.add({ series: 'home/meter/power', ts: 1_717_200_060_000, value: payloadNaN() });
  builder.add({ series: 'ev:charger.1', ts: -1, value: Number.MIN_VALUE });
  builder.add({ series: 'home/solar/power', ts: 8.64e15, value: Infinity });
  return builder.take();
}

test('a reading batch survives encode and decode byte-exact', () => {
  const batch = sampleBatch();
  assertSameBatch(readingBatchCodec.decode(readingBatchCodec.encode(batch)), batch);
});

test('an empty batch round-trips', () => {
  const empty = new ReadingBatchBuilder(10).take();
  const decoded = readingBatchCodec.decode(readingBatchCodec.encode(empty));
  assert.equal(decoded.length, 0);
  assert.deepEqual(decoded.keys, []);
});

test('keys outside ASCII round-trip', () => {
  const builder = new ReadingBatchBuilder(3);
  builder.add({ series: 'Zähler/Leistung', ts: 1, value: 1 });
  builder.add({ series: '電力/メーター', ts: 2, value: 2 });
  builder.add({ series: 'panel/☀️', ts: 3, value: 3 });
  const batch = builder.take();
  assertSameBatch(readingBatchCodec.decode(readingBatchCodec.encode(batch)), batch);
});

test('decoding views an aligned buffer in place and copies a misaligned one', () => {
  const batch = sampleBatch();
  const encoded = readingBatchCodec.encode(batch);
  const inPlace = readingBatchCodec.decode(encoded);
  assert.equal(inPlace.ts.buffer, encoded.buffer);
  // a payload at an odd offset inside a larger buffer, as a NATS message arrives
  const misaligned = new Uint8Array(encoded.length + 3).subarray(3);
  misaligned.set(encoded);
  const copied = readingBatchCodec.decode(Buffer.from(misaligned.buffer, misaligned.byteOffset, misaligned.length));
  assert.notEqual(copied.ts.buffer, misaligned.buffer);
  assertSameBatch(copied, batch);
});

test('every truncation of a batch is refused with a clear error', () => {
  const encoded = readingBatchCodec.encode(sampleBatch());
  for (let n = 0; n < encoded.length; n++) {
    assert.throws(
      () => readingBatchCodec.decode(encoded.subarray(0, n)),
      (err: Error) => err instanceof CodecError && /truncated/.test(err.message),
      `cut at ${n} bytes`,
    );
  }
});

test('damaged batches are refused naming what is wrong', () => {
  const check = (damage: (bytes: Uint8Array) => Uint8Array, expected: RegExp) => {
    const bytes = damage(readingBatchCodec.encode(sampleBatch()).slice());
    assert.throws(
      () => readingBatchCodec.decode(bytes),
      (err: Error) => err instanceof CodecError && expected.test(err.message),
    );
  };
  check((b) => withByte(b, 0, 0x7b), /not a reading batch/);
  check((b) => withByte(b, 3, 9), /version 9 is not supported/);
  check((b) => Uint8Array.from([...b, 0]), /longer than its header says/);
  check((b) => withByte(b, 12, 0x7b), /keys are not a JSON array/);
  const numericKeys = readingBatchCodec.encode({ ...sampleBatch(), keys: [1, 2, 3] as unknown as string[] });
  check(() => numericKeys, /keys must be an array of strings/);
  check((b) => withLastKeyIndex(b, 99), /row 4 names key 99, but the batch has 3 keys/);
  check((b) => withLastKeyIndex(b, -1), /row 4 names key -1/);
});

test('a split batch keeps every row, and each half carries only its own keys', () => {
  const batch = sampleBatch();
  const [a, b] = readingBatchCodec.split!(batch)!;
  assert.equal(a.length + b.length, batch.length);
  assert.deepEqual(a.keys, ['home/meter/power', 'home/solar/power']);
  assert.deepEqual(b.keys, ['home/meter/power', 'ev:charger.1', 'home/solar/power']);
  const rows = (x: ReadingBatch) =>
    Array.from({ length: x.length }, (_, i) => [
      x.keys[x.keyIndex[i]],
      x.ts[i],
      Object.is(x.value[i], -0) ? '-0' : x.value[i],
    ]);
  assert.deepEqual([...rows(a), ...rows(b)], rows(batch));
  assert.equal(readingBatchCodec.split!(sliceBatch(batch, 0, 1)), undefined);
});

test('readings travel as batches, other topics as JSON', () => {
  assert.equal(defaultCodecs(READINGS_TOPIC), readingBatchCodec);
  assert.equal(defaultCodecs('events'), jsonCodec);
  const message = { id: 7, name: 'Zähler', nested: { list: [1, null, 'x'] } };
  assert.deepEqual(jsonCodec.decode(jsonCodec.encode(message)), message);
  assert.throws(
    () => jsonCodec.decode(new TextEncoder().encode('{"id":')),
    (err: Error) => err instanceof CodecError && /not valid JSON/.test(err.message),
  );
});

function withByte(bytes: Uint8Array, at: number, value: number): Uint8Array {
  bytes[at] = value;
  return bytes;
}

/** The batch with its last row's key index (the last 4 bytes) replaced. */
function withLastKeyIndex(bytes: Uint8Array, index: number): Uint8Array {
  new DataView(bytes.buffer).setInt32(bytes.length - 4, index, true);
  return bytes;
}

test('what lines said of their series survives encode, decode and split; a batch without it stays version 1', () => {
  const builder = new ReadingBatchBuilder(8);
  builder.add({ series: 'a', ts: 1_717_200_000_000, value: 1 });
  const b = builder.keyId('b') ?? builder.addKey('b');
  builder.setMeta(b, { unit: 'kWh' });
  builder.setMeta(b, { kind: 'counter' });
  builder.push(b, 1_717_200_000_000, 2);
  builder.add({ series: 'c', ts: 1_717_200_000_000, value: 3 });
  builder.setMeta(builder.keyId('c')!, { unit: '°C', tags: { room: 'kitchen', 'host name': 'pi 4' } });
  const batch = builder.take();
  const meta = [null, { unit: 'kWh', kind: 'counter' }, { unit: '°C', tags: { room: 'kitchen', 'host name': 'pi 4' } }];
  assert.deepEqual(batch.meta, meta);
  const bytes = readingBatchCodec.encode(batch);
  assert.equal(bytes[3], 2);
  const decoded = readingBatchCodec.decode(bytes);
  assertSameBatch(decoded, batch);
  assert.deepEqual(decoded.meta, meta);
  const [first, second] = readingBatchCodec.split!(batch)!;
  assert.deepEqual([first.keys, first.meta], [['a'], [null]]);
  assert.deepEqual([second.keys, second.meta], [['b', 'c'], meta.slice(1)]);

  const plain = sampleBatch();
  assert.equal(plain.meta, undefined);
  assert.equal(readingBatchCodec.encode(plain)[3], 1);
  assert.equal(readingBatchCodec.decode(readingBatchCodec.encode(plain)).meta, undefined);
});
