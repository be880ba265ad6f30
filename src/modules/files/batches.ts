import type { ReadingBatch } from '../../core/readings.js';

/**
 * One batch of several: a file's readings travel as one message, which the persistor commits in
 * one transaction (on NATS a message over max_payload travels in parts; see README).
 */
export function concatBatches(batches: readonly ReadingBatch[]): ReadingBatch {
  if (batches.length === 1) return batches[0];
  const length = batches.reduce((n, b) => n + b.length, 0);
  const keys: string[] = [];
  const keyIds = new Map<string, number>();
  const keyIndex = new Int32Array(length);
  const ts = new Float64Array(length);
  const value = new Float64Array(length);
  const meta: NonNullable<ReadingBatch['meta']> = [];
  let hasMeta = false;
  let at = 0;
  for (const b of batches) {
    // this batch's key ids in the joined batch
    const ids = b.keys.map((key, k) => {
      let id = keyIds.get(key);
      if (id === undefined) {
        id = keys.push(key) - 1;
        keyIds.set(key, id);
        meta.push(null);
      }
      const m = b.meta?.[k];
      if (m) {
        meta[id] = { ...meta[id], ...m };
        hasMeta = true;
      }
      return id;
    });
    for (let i = 0; i < b.length; i++) keyIndex[at + i] = ids[b.keyIndex[i]];
    ts.set(b.ts.subarray(0, b.length), at);
    value.set(b.value.subarray(0, b.length), at);
    at += b.length;
  }
  return hasMeta ? { keys, keyIndex, ts, value, length, meta } : { keys, keyIndex, ts, value, length };
}
