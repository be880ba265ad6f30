import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { ReadingBatch } from '../../core/readings.js';
import { Persistor } from './persistor.js';
import { batchOf, openTestEngine } from './test-engine.js';

const T0 = Date.UTC(2024, 0, 1);

/** `rows` readings of `series`, a minute apart from `fromTs`. */
const readingsOf = (series: string, rows: number, fromTs = T0) =>
  batchOf(Array.from({ length: rows }, (_, i) => ({ series, ts: fromTs + i * 60_000, value: i })));

/**
 * A persistor writing to a real embedded store. Its commits are seen on their way to the store:
 * `hold()` keeps the next one waiting until opened, `failCommit(n)` makes the n-th one fail.
 */
async function persistorWorld(t: TestContext, options: { maxBatchRows: number; lingerMs?: number }) {
  const engine = await openTestEngine(t);
  const commits: number[][] = []; // batch lengths of each commit, in order
  const events: string[] = [];
  let held: Promise<void> | undefined;
  let failing: number | undefined;
  const persistor = new Persistor({
    write: async (batches: ReadingBatch[], rows: number) => {
      commits.push(batches.map((b) => b.length));
      const commit = commits.length;
      const wait = held;
      held = undefined;
      await wait;
      if (commit === failing) throw new Error('disk full');
      await engine.storage.write(batches, rows);
    },
    log: engine.log,
    metrics: engine.metrics,
    maxBatchRows: options.maxBatchRows,
    lingerMs: options.lingerMs ?? 0,
    onCommitted: (batches) => events.push(`committed ${batches.map((b) => b.keys[0]).join('+')}`),
  });
  /** Publishes a batch; `events` records when its publisher is answered. */
  const publish = (batch: ReadingBatch) => {
    const name = batch.keys[0];
    return persistor.write(batch).then(
      () => void events.push(`ack ${name}`),
      (err: Error) => {
        events.push(`rejected ${name}`);
        throw err;
      },
    );
  };
  const counts = async () =>
    Object.fromEntries((await engine.storage.series()).map((s) => [s.key, s.count] as [string, number]));
  return {
    persistor,
    commits,
    events,
    publish,
    counts,
    hold() {
      let open!: () => void;
      held = new Promise<void>((resolve) => (open = resolve));
      return open;
    },
    failCommit(n: number) {
      failing = n;
    },
  };
}

test('batches queued during a commit go into the next one together, up to maxBatchRows, and each publisher is answered after its commit', async (t) => {
  const w = await persistorWorld(t, { maxBatchRows: 10 });
  const open = w.hold();
  const published = [
    w.publish(readingsOf('a', 3)),
    w.publish(readingsOf('b', 4)),
    w.publish(readingsOf('c', 4)),
    w.publish(readingsOf('d', 5)),
    w.publish(readingsOf('e', 12)), // more than maxBatchRows: a commit of its own
  ];
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(w.commits, [[3]]);
  assert.deepEqual(w.events, [], 'nothing is acknowledged while the first commit runs');
  assert.equal(w.persistor.backlogRows, 28);
  open();
  await Promise.all(published);
  assert.deepEqual(w.commits, [[3], [4, 4], [5], [12]]);
  assert.deepEqual(w.events, [
    'committed a',
    'ack a',
    'committed b+c',
    'ack b',
    'ack c',
    'committed d',
    'ack d',
    'committed e',
    'ack e',
  ]);
  assert.equal(w.persistor.backlogRows, 0);
  assert.deepEqual(await w.counts(), { a: 3, b: 4, c: 4, d: 5, e: 12 });
});

test('a failing commit rejects every publisher waiting on it, acknowledges none of them, and the next commit goes on', async (t) => {
  const w = await persistorWorld(t, { maxBatchRows: 100 });
  const open = w.hold();
  const a = w.publish(readingsOf('a', 2));
  const b = w.publish(readingsOf('b', 2));
  const c = w.publish(readingsOf('c', 2));
  w.failCommit(2);
  open();
  await a;
  await assert.rejects(b, /disk full/);
  await assert.rejects(c, /disk full/);
  await w.publish(readingsOf('d', 2));
  assert.deepEqual(w.events, ['committed a', 'ack a', 'rejected b', 'rejected c', 'committed d', 'ack d']);
  assert.deepEqual(await w.counts(), { a: 2, d: 2 });
  assert.equal(w.persistor.backlogRows, 0);
});

test('flush waits until every batch queued so far is committed (shutdown loses nothing)', async (t) => {
  const w = await persistorWorld(t, { maxBatchRows: 1000, lingerMs: 20 });
  const published = ['a', 'b', 'c', 'd'].map((s, i) => w.publish(readingsOf(s, 100 + i)));
  assert.equal(w.persistor.backlogRows, 406);
  await w.persistor.flush();
  assert.equal(w.persistor.backlogRows, 0);
  assert.deepEqual(await w.counts(), { a: 100, b: 101, c: 102, d: 103 });
  assert.deepEqual(w.commits, [[100, 101, 102, 103]], 'lingering gathered them into one commit');
  await Promise.all(published);
});
