import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QueryCache } from './query-cache.js';

const H = 3_600_000;

/** A cache holding one answer per key, each over `[startMs, endMs]` of its series. */
function cacheWith(answers: { key: string; series: string[]; startMs: number; endMs: number }[], ttlMs = 0) {
  let nowMs = 1_000_000; // lru-cache takes a start time of 0 for "never set"
  const cache = new QueryCache<string>({
    maxEntries: 100,
    maxBytes: 1_000_000,
    maxEntryBytes: 1_000_000,
    ttlMs,
    sizeOf: (answer) => answer.length,
    now: () => nowMs,
  });
  for (const a of answers) cache.set(a.key, cache.begin(), a.series, a.startMs, a.endMs, `answer ${a.key}`);
  return {
    cache,
    advance: (ms: number) => {
      nowMs += ms;
    },
    cached: () => answers.filter((a) => cache.get(a.key) !== undefined).map((a) => a.key),
  };
}

const answers = [
  { key: 'a-day', series: ['a'], startMs: 0, endMs: 24 * H },
  { key: 'a-late', series: ['a'], startMs: 48 * H, endMs: 72 * H },
  { key: 'b-day', series: ['b'], startMs: 0, endMs: 24 * H },
  { key: 'a-and-b', series: ['a', 'b'], startMs: 0, endMs: H },
];

test('a commit drops exactly the answers whose series and time range it touched', () => {
  const check = (touched: { series: string; minTs: number; maxTs: number }[], stillCached: string[]) => {
    const { cache, cached } = cacheWith(answers);
    cache.invalidate(touched);
    assert.deepEqual(cached(), stillCached, JSON.stringify(touched));
  };
  check([{ series: 'a', minTs: 2 * H, maxTs: 3 * H }], ['a-late', 'b-day', 'a-and-b']);
  check([{ series: 'a', minTs: 0, maxTs: 0 }], ['a-late', 'b-day']); // at the inclusive start
  check([{ series: 'a', minTs: 24 * H, maxTs: 24 * H }], ['a-late', 'b-day', 'a-and-b']); // at the inclusive end
  check([{ series: 'a', minTs: 25 * H, maxTs: 47 * H }], ['a-day', 'a-late', 'b-day', 'a-and-b']); // between two answers
  check([{ series: 'a', minTs: -H, maxTs: 100 * H }], ['b-day']); // spans both
  check([{ series: 'b', minTs: 30 * H, maxTs: 30 * H }], ['a-day', 'a-late', 'b-day', 'a-and-b']); // after b's answers
  check([{ series: 'b', minTs: 30 * 60_000, maxTs: 30 * 60_000 }], ['a-day', 'a-late']);
  check([{ series: 'c', minTs: 0, maxTs: 100 * H }], ['a-day', 'a-late', 'b-day', 'a-and-b']); // another series
  check([], ['a-day', 'a-late', 'b-day', 'a-and-b']);
});

test('an answer read while a commit touched its series is not kept, since it may predate the commit', () => {
  const { cache } = cacheWith([]);
  const token = cache.begin();
  cache.invalidate([{ series: 'a', minTs: 100 * H, maxTs: 100 * H }]); // lands while the store is read
  cache.set('a-day', token, ['a'], 0, 24 * H, 'maybe stale');
  assert.equal(cache.get('a-day'), undefined);
  // a read begun after that commit is kept, and so is one of a series the commit did not touch
  cache.set('a-day', cache.begin(), ['a'], 0, 24 * H, 'fresh');
  cache.set('b-day', token, ['b'], 0, 24 * H, 'b');
  assert.equal(cache.get('a-day'), 'fresh');
  assert.equal(cache.get('b-day'), 'b');
});

test('an answer expires after the TTL even when no commit touched it', () => {
  const { cache, advance } = cacheWith([{ key: 'a-day', series: ['a'], startMs: 0, endMs: 24 * H }], 60_000);
  advance(59_999);
  assert.equal(cache.get('a-day'), 'answer a-day');
  advance(2);
  assert.equal(cache.get('a-day'), undefined);
});

test('a cache of size 0 keeps nothing', () => {
  const cache = new QueryCache<string>({
    maxEntries: 0,
    maxBytes: 1000,
    maxEntryBytes: 1000,
    ttlMs: 60_000,
    sizeOf: (a) => a.length,
  });
  cache.set('a-day', cache.begin(), ['a'], 0, 24 * H, 'answer');
  assert.equal(cache.get('a-day'), undefined);
});

/** A cache of answers whose size is their length, bounded to `maxBytes` in all and `maxEntryBytes` each. */
function byteBoundCache(maxBytes: number, maxEntryBytes: number, ttlMs = 0) {
  let nowMs = 1_000_000;
  const cache = new QueryCache<string>({
    maxEntries: 1000,
    maxBytes,
    maxEntryBytes,
    ttlMs,
    sizeOf: (answer) => answer.length,
    now: () => nowMs,
  });
  const put = (key: string, series: string, bytes: number) =>
    cache.set(key, cache.begin(), [series], 0, H, key.padEnd(bytes, '.'));
  return {
    cache,
    put,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

test('the cache holds at most maxBytes of answers, dropping the least recently used first', () => {
  const { cache, put } = byteBoundCache(1000, 1000);
  for (let i = 0; i < 10; i++) put(`q${i}`, `s${i}`, 300);
  assert.ok(cache.stats().bytes <= 1000, `${cache.stats().bytes} bytes cached`);
  assert.deepEqual(
    Array.from({ length: 10 }, (_, i) => `q${i}`).filter((k) => cache.get(k) !== undefined),
    ['q7', 'q8', 'q9'],
  );
});

test('an answer larger than maxEntryBytes is answered but not kept', () => {
  const { cache, put } = byteBoundCache(1000, 400);
  put('small', 'a', 400);
  put('big', 'b', 401);
  assert.equal(cache.get('big'), undefined);
  assert.ok(cache.get('small'));
  assert.deepEqual(cache.stats(), { entries: 1, bytes: 400, indexedSeries: 1 });
});

test('expired answers are purged, and their series forgotten, without anyone asking for them again', () => {
  const { cache, put, advance } = byteBoundCache(10_000, 10_000, 60_000);
  for (let i = 0; i < 5; i++) put(`q${i}`, `s${i}`, 100);
  advance(60_001);
  put('fresh', 'f', 100); // any later write sweeps what expired
  assert.deepEqual(cache.stats(), { entries: 1, bytes: 100, indexedSeries: 1 });
});

test('an answer evicted or invalidated leaves nothing behind for its series', () => {
  const { cache, put } = byteBoundCache(1000, 1000);
  for (let i = 0; i < 100; i++) put(`q${i}`, `never-existed-${i}`, 100);
  assert.equal(cache.stats().indexedSeries, 10);
  cache.invalidate([{ series: 'never-existed-99', minTs: 0, maxTs: H }]);
  assert.deepEqual(cache.stats(), { entries: 9, bytes: 900, indexedSeries: 9 });
});
