import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SERIES_KEY_PATTERN } from '../../core/readings.js';
import { type FastLine, newFastLine, readFastLine } from './ndjson-fast-line.js';

/** What JSON.parse makes of a line the fast path read: the same key, value (bit for bit) and time. */
function agreesWithJsonParse(line: string, fast: FastLine) {
  const o = JSON.parse(line) as Record<string, unknown>;
  assert.deepEqual(Object.keys(o).length, 3, line);
  assert.equal(o.series ?? o.sensor, line.slice(fast.keyStart, fast.keyEnd), line);
  assert.ok(SERIES_KEY_PATTERN.test(line.slice(fast.keyStart, fast.keyEnd)), line);
  assert.ok(Object.is(o.value, fast.value), `${line}: ${fast.value} is not ${o.value}`);
  assert.equal(o.ts ?? o.timestamp, fast.rawTs, line);
  assert.equal(fast.timestampField, o.timestamp !== undefined, line);
}

function read(line: string): FastLine {
  const out = newFastLine();
  readFastLine(line, 0, line.length, out);
  return out;
}

test('the fast path reads the usual lines exactly as JSON.parse does, numbers bit for bit', () => {
  for (const line of [
    '{"series":"meter-001","value":1234.5,"ts":1717200000000}',
    '{"sensor":"a/b:c_d.e","value":-0,"timestamp":1717200000}',
    '{"series":"x","value":0.1,"ts":0}',
    '{"series":"x","value":-1e-7,"ts":5}',
    '{"series":"x","value":123456789012345.6,"ts":5}',
    '{"series":"x","value":9007199254740993,"ts":5}',
    '{"series":"x","value":1.7976931348623157E308,"ts":5}',
    '{"series":"x","value":0.30000000000000004,"ts":5}',
  ]) {
    const fast = read(line);
    assert.ok(fast.ok, line);
    agreesWithJsonParse(line, fast);
  }
});

test('the fast path leaves every other line to JSON.parse', () => {
  for (const line of [
    '{"series": "x","value":1,"ts":5}', // a space
    '{"series":"x","ts":5,"value":1}', // another order
    '{"series":"x","value":1,"ts":5,"unit":"W"}', // another field
    '{"series":"x\\u0041","value":1,"ts":5}', // an escape
    '{"series":"-x","value":1,"ts":5}', // a key the pattern refuses
    `{"series":"${'k'.repeat(201)}","value":1,"ts":5}`,
    '{"series":"x","value":01,"ts":5}', // not JSON
    '{"series":"x","value":1.,"ts":5}',
    '{"series":"x","value":.5,"ts":5}',
    '{"series":"x","value":+1,"ts":5}',
    '{"series":"x","value":1e999,"ts":5}', // Infinity: the slow path says why
    '{"series":"x","value":1,"ts":"2024-06-01T00:00:00Z"}',
    '{"series":"x","value":1,"ts":-5}',
    '{"series":"x","value":1,"ts":1717200000000000000}', // 19 digits: past exact doubles
    '{"series":"x","value":1,"ts":05}',
    '{"series":"x","value":1,"ts":5}}',
    '{"series":"x","value":1,"ts":5',
    '{"series":"x","value":true,"ts":5}',
    '{"series":"ä","value":1,"ts":5}',
  ])
    assert.equal(read(line).ok, false, line);
});

test('any line the fast path takes, JSON.parse reads the same (generated lines near the usual shape)', () => {
  const key = fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,20}$/), fc.string({ maxLength: 12 }));
  const number = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
    fc.integer().map(String),
    fc.stringMatching(/^-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,18})?([eE][+-]?[0-9]{1,3})?$/),
    fc.string({ maxLength: 8 }),
  );
  const ts = fc.oneof(fc.nat().map(String), fc.stringMatching(/^[0-9]{1,17}$/), fc.string({ maxLength: 6 }));
  const line = fc
    .tuple(fc.constantFrom('series', 'sensor'), key, number, fc.constantFrom('ts', 'timestamp'), ts)
    .map(([k, s, v, t, tv]) => `{"${k}":"${s}","value":${v},"${t}":${tv}}`);
  fc.assert(
    fc.property(line, (l) => {
      const fast = read(l);
      if (fast.ok) agreesWithJsonParse(l, fast);
    }),
    { numRuns: 5_000 },
  );
});
