import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { Unavailable } from '../src/core/errors.js';
import { openStore, type BulkColumn, type Store } from '../src/core/store/index.js';
import { dropSchema, tempDir, uniqueSchema } from './helpers.js';
import { needService, services } from './services.js';

/** The same cases against both stores: what modules may rely on, whatever the engine. */
async function open(t: TestContext, kind: 'duckdb' | 'postgres'): Promise<Store | undefined> {
  if (kind === 'duckdb') {
    const dir = tempDir();
    const store = await openStore({ dataDir: dir, poolSize: 2 });
    t.after(async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    return store;
  }
  if (!(await needService(t, 'postgres'))) return undefined;
  const schema = uniqueSchema('wattline_store');
  const store = await openStore({ dataDir: '', databaseUrl: services.postgres.url, poolSize: 4, schema });
  t.after(async () => {
    await store.close();
    await dropSchema(schema);
  });
  return store;
}

const table = `CREATE TABLE samples (id INTEGER NOT NULL, ts BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL)`;

/** Columns for `samples` rows with these ids (ts and value equal to the id). */
function sampleColumns(ids: number[]): BulkColumn[] {
  return [
    { type: 'int32', values: Int32Array.from(ids) },
    { type: 'int64', values: Float64Array.from(ids) },
    { type: 'float64', values: Float64Array.from(ids) },
  ];
}

for (const kind of ['duckdb', 'postgres'] as const) {
  test(`migrations apply once, in version order (${kind})`, async (t) => {
    const store = await open(t, kind);
    if (!store) return;
    const migrations = [
      { version: 2, name: 'second', sql: `INSERT INTO notes VALUES ('two')` },
      { version: 1, name: 'first', sql: `CREATE TABLE notes (note TEXT)` },
    ];
    await store.migrate('contract', migrations);
    await store.migrate('contract', migrations);
    await store.migrate('contract', [
      ...migrations,
      { version: 3, name: 'third', sql: `INSERT INTO notes VALUES ('three')` },
    ]);
    assert.deepEqual(
      (await store.query<{ note: string }>(`SELECT note FROM notes ORDER BY note DESC`)).map((r) => r.note),
      ['two', 'three'],
    );
  });

  test(`whole numbers come back as numbers and parameters bind by position (${kind})`, async (t) => {
    const store = await open(t, kind);
    if (!store) return;
    await store.migrate('contract', [{ version: 1, name: 'samples', sql: table }]);
    await store.transaction((tx) => tx.run(`INSERT INTO samples VALUES ($1, $2, $3)`, [7, 1_704_067_200_000, 2.5]));
    const rows = await store.query<{ n: number; ts: number; total: number }>(
      `SELECT count(*) AS n, max(ts) AS ts, sum(value) AS total FROM samples WHERE id = $1`,
      [7],
    );
    assert.deepEqual(rows, [{ n: 1, ts: 1_704_067_200_000, total: 2.5 }]);
  });

  test(`a streamed read yields every row in order, in chunks, and frees its connection when left early (${kind})`, async (t) => {
    const store = await open(t, kind);
    if (!store) return;
    await store.migrate('contract', [{ version: 1, name: 'samples', sql: table }]);
    const n = 20_000;
    const ids = new Int32Array(n).fill(1);
    const ts = Float64Array.from({ length: n }, (_, i) => 1_704_067_200_000 + i * 1000);
    const values = Float64Array.from({ length: n }, (_, i) => i / 4);
    await store.transaction((tx) =>
      tx.bulkAppend(
        'samples',
        [
          { type: 'int32', values: ids },
          { type: 'int64', values: ts },
          { type: 'float64', values },
        ],
        n,
      ),
    );

    let rows = 0;
    let chunks = 0;
    let sum = 0;
    let previousTs = -Infinity;
    for await (const chunk of store.streamNumbers(`SELECT ts, value, id FROM samples WHERE id = $1 ORDER BY ts`, [1])) {
      chunks++;
      const [tsColumn, valueColumn, idColumn] = chunk.columns;
      assert.equal(chunk.columns.length, 3);
      for (let i = 0; i < chunk.length; i++) {
        assert.ok(tsColumn[i] > previousTs, 'rows come in query order');
        assert.equal(tsColumn[i], 1_704_067_200_000 + rows * 1000, 'a BIGINT comes back exactly');
        assert.equal(idColumn[i], 1);
        previousTs = tsColumn[i];
        sum += valueColumn[i];
        rows++;
      }
    }
    assert.equal(rows, n);
    assert.equal(sum, ((n - 1) * n) / 2 / 4);
    assert.ok(chunks > 1, `a large answer comes in several chunks (got ${chunks})`);

    // leaving a stream early many times over must not use up the connection pool
    for (let i = 0; i < 12; i++) {
      for await (const chunk of store.streamNumbers(`SELECT ts FROM samples ORDER BY ts`)) {
        assert.ok(chunk.length > 0);
        break;
      }
    }
    assert.deepEqual(await store.query(`SELECT count(*) AS n FROM samples`), [{ n }]);
  });

  test(`a bulk append stores every value exactly (${kind})`, async (t) => {
    const store = await open(t, kind);
    if (!store) return;
    await store.migrate('contract', [{ version: 1, name: 'samples', sql: table }]);
    const n = 5000;
    const id = Int32Array.from({ length: n }, (_, i) => i - 10);
    const ts = Float64Array.from({ length: n }, (_, i) => (i % 2 ? 1 : -1) * (2 ** 40 + i * 1_000_003));
    const value = Float64Array.from({ length: n }, (_, i) => i / 7 - 100.125);
    await store.transaction((tx) =>
      tx.bulkAppend(
        'samples',
        [
          { type: 'int32', values: id },
          { type: 'int64', values: ts },
          { type: 'float64', values: value },
        ],
        n,
      ),
    );
    const rows = await store.query<{ id: number; ts: number; value: number }>(
      `SELECT id, ts, value FROM samples ORDER BY id`,
    );
    assert.equal(rows.length, n);
    for (let i = 0; i < n; i += 499) assert.deepEqual(rows[i], { id: id[i], ts: ts[i], value: value[i] }, `row ${i}`);
  });

  test(`a transaction that fails leaves nothing behind, appended rows included (${kind})`, async (t) => {
    const store = await open(t, kind);
    if (!store) return;
    await store.migrate('contract', [{ version: 1, name: 'samples', sql: table }]);
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.run(`INSERT INTO samples VALUES (1, 1, 1)`);
        await tx.bulkAppend(
          'samples',
          [
            { type: 'int32', values: Int32Array.of(2) },
            { type: 'int64', values: Float64Array.of(2) },
            { type: 'float64', values: Float64Array.of(2) },
          ],
          1,
        );
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.deepEqual(await store.query(`SELECT id FROM samples`), []);
    // and the store is usable afterwards
    await store.transaction((tx) => tx.run(`INSERT INTO samples VALUES (3, 3, 3)`));
    assert.deepEqual(await store.query(`SELECT id FROM samples`), [{ id: 3 }]);
  });

  test(`a transaction whose only write is an append, rejected, leaves the table unchanged (${kind})`, async (t) => {
    const store = await open(t, kind);
    if (!store) return;
    await store.migrate('contract', [{ version: 1, name: 'samples', sql: table }]);
    await store.transaction((tx) => tx.bulkAppend('samples', sampleColumns([1, 2]), 2));
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.bulkAppend('samples', sampleColumns([10, 11, 12]), 3);
        throw new Error('rejected');
      }),
      /rejected/,
    );
    assert.deepEqual(await store.query(`SELECT id FROM samples ORDER BY id`), [{ id: 1 }, { id: 2 }]);
  });

  test(`an append followed by a statement that fails leaves the table unchanged (${kind})`, async (t) => {
    const store = await open(t, kind);
    if (!store) return;
    await store.migrate('contract', [{ version: 1, name: 'samples', sql: table }]);
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.bulkAppend('samples', sampleColumns([1, 2, 3]), 3);
        await tx.run(`INSERT INTO samples VALUES (4, NULL, 4)`);
      }),
      /null/i,
    );
    assert.deepEqual(await store.query(`SELECT id FROM samples`), []);
    // and the store is usable afterwards, the fast single-append path included
    await store.transaction((tx) => tx.bulkAppend('samples', sampleColumns([5]), 1));
    assert.deepEqual(await store.query(`SELECT id FROM samples`), [{ id: 5 }]);
  });

  test(`work after an append in the same transaction sees the appended rows and commits with them (${kind})`, async (t) => {
    const store = await open(t, kind);
    if (!store) return;
    await store.migrate('contract', [{ version: 1, name: 'samples', sql: table }]);
    const seen = await store.transaction(async (tx) => {
      await tx.bulkAppend('samples', sampleColumns([1, 2]), 2);
      await tx.bulkAppend('samples', sampleColumns([3]), 1);
      const [{ n }] = await tx.query<{ n: number }>(`SELECT count(*) AS n FROM samples`);
      await tx.run(`INSERT INTO samples VALUES (4, 4, 4)`);
      return n;
    });
    assert.equal(seen, 3);
    assert.deepEqual(await store.query(`SELECT id FROM samples ORDER BY id`), [
      { id: 1 },
      { id: 2 },
      { id: 3 },
      { id: 4 },
    ]);
  });

  test(`ready is true while open and false once closed (${kind})`, async (t) => {
    const store = await open(t, kind);
    if (!store) return;
    assert.equal(await store.ready(), true);
    await store.close();
    assert.equal(await store.ready(), false);
  });
}

// PostgreSQL only: several processes share one database, while a DuckDB file has a single writer process
test('stores opened at once on a new schema all apply its migrations, each once (postgres)', async (t) => {
  if (!(await needService(t, 'postgres'))) return;
  const schema = uniqueSchema('wattline_store');
  t.after(() => dropSchema(schema));
  const migrations = [
    { version: 1, name: 'samples', sql: table },
    { version: 2, name: 'first row', sql: `INSERT INTO samples VALUES (1, 1, 1)` },
  ];
  const opened = await Promise.allSettled(
    Array.from({ length: 5 }, async () => {
      const store = await openStore({ dataDir: '', databaseUrl: services.postgres.url, poolSize: 2, schema });
      t.after(() => store.close());
      await store.migrate('contract', migrations);
      return store;
    }),
  );
  assert.deepEqual(
    opened.map((r) => (r.status === 'rejected' ? String(r.reason) : 'migrated')),
    Array(5).fill('migrated'),
  );
  const [first] = opened as PromiseFulfilledResult<Store>[];
  assert.deepEqual(await first.value.query(`SELECT id FROM samples`), [{ id: 1 }]);
});

test('a connection dropped under a streamed read or a transaction rejects with Unavailable; the process lives on and the store reconnects (postgres)', {
  timeout: 30_000, // a safety net: a read that never ends fails instead of stalling the suite
}, async (t) => {
  const store = await open(t, 'postgres');
  if (!store) return;
  const admin = new pg.Client({ connectionString: services.postgres.url });
  await admin.connect();
  t.after(() => admin.end());
  // what `pg_ctl stop -m fast` does to every session: SQLSTATE 57P01, then the socket closes
  const terminate = (marker: string) =>
    admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`,
      [`%${marker}%`],
    );
  const isStoreDown = (err: unknown) => err instanceof Unavailable && err.service === 'store';

  // a streamed read, its client checked out of the pool
  await assert.rejects(async () => {
    for await (const _chunk of store.streamNumbers(`SELECT g /* stream-marker */ FROM generate_series(1, 10000000) g`))
      await terminate('stream-marker');
  }, isStoreDown);

  // a transaction, its client checked out between statements
  await assert.rejects(
    store.transaction(async (tx) => {
      await tx.run(`SELECT 1 /* tx-marker */`);
      await terminate('tx-marker');
      await tx.run(`SELECT 2`);
    }),
    isStoreDown,
  );

  // the broken clients were discarded: the next statements get fresh connections
  assert.deepEqual(await store.query(`SELECT 1 AS one`), [{ one: 1 }]);
  assert.equal(await store.transaction((tx) => tx.query<{ two: number }>(`SELECT 2 AS two`)).then((r) => r[0].two), 2);
  assert.equal(await store.ready(), true);
});
