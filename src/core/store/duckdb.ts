import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BIGINT,
  DOUBLE,
  INTEGER,
  DuckDBDataChunk,
  DuckDBInstance,
  DuckDBPendingResultState,
  listValue,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBPreparedStatement,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { BulkColumn, Migration, Params, Store, StoreTx } from './store.js';
import { isDiskFull, storeError } from './unavailable.js';

/** DuckDB's default checkpoint_threshold, applied by our own timer (see `checkpoint_threshold` below). */
const WAL_CHECKPOINT_BYTES = 16 * 1024 * 1024;
const WAL_CHECK_MS = 2000;

// DuckDB's vector size: a data chunk holds at most this many rows.
const CHUNK_ROWS = 2048;
const READ_POOL_SIZE = 4;
const TWO_POW_32 = 4294967296;

/**
 * DuckDB's own default `memory_limit` is 80 % of the machine's RAM, which leaves nothing for Node, the
 * parse workers and the OS: compacting a day of 47M rows took the process to 5.1 GB. A quarter of
 * RAM (at least 256 MiB) bounds DuckDB's buffers; sorts and aggregates beyond it spill to
 * `wattline.duckdb.tmp` beside the database file.
 */
function defaultMemoryLimit(): string {
  return `${Math.max(256, Math.floor(os.totalmem() / 4 / 2 ** 20))}MiB`;
}

/** The embedded store: one DuckDB file in the data directory. */
export async function createDuckDbStore(
  dataDir: string,
  options: { memoryLimit?: string; threads?: number } = {},
): Promise<Store> {
  fs.mkdirSync(dataDir, { recursive: true });
  const config = {
    memory_limit: options.memoryLimit ?? defaultMemoryLimit(),
    threads: String(options.threads ?? os.availableParallelism()),
    // a large transaction's rows go to disk a row group (122,880 rows) at a time as they fill, rather
    // than five held uncompressed in memory first: a 50 MB load-curve file's half a million readings
    // cost DuckDB 19 MB instead of 31
    write_buffer_row_group_count: '1',
    // DuckDB checkpoints when a commit takes the log past this, inside that commit: an appender's
    // flushSync on the main thread, which stalled the event loop for up to a second in a soak. Far
    // above what the timer below lets the log reach, so checkpoints run asynchronously instead.
    checkpoint_threshold: '1GB',
  };
  const instance = await DuckDBInstance.create(path.join(dataDir, 'wattline.duckdb'), config);
  // the catalog name DuckDB gives the file (its base name)
  const database = 'wattline';
  const writer = await instance.connect();
  const readers: DuckDBConnection[] = [];
  const idleReaders: DuckDBConnection[] = [];
  const waitingForReader: ((c: DuckDBConnection) => void)[] = [];
  let writeChain: Promise<unknown> = Promise.resolve();
  const appenders = new Map<string, DuckDBAppender>();
  let closed = false;
  const walFile = path.join(dataDir, 'wattline.duckdb.wal');
  // the log is checkpointed off the main thread once it passes DuckDB's own default threshold
  const walTimer = setInterval(() => {
    fs.promises
      .stat(walFile)
      .then(({ size }) => (size > WAL_CHECKPOINT_BYTES && !closed ? checkpointWhenQuiet() : undefined))
      .catch(() => undefined); // no log yet, or a checkpoint refused for now: the next tick tries again
  }, WAL_CHECK_MS);
  walTimer.unref();

  async function acquireReader(): Promise<DuckDBConnection> {
    const idle = idleReaders.pop();
    if (idle) return idle;
    if (readers.length < READ_POOL_SIZE) {
      const c = await instance.connect();
      readers.push(c);
      return c;
    }
    return new Promise((resolve) => waitingForReader.push(resolve));
  }

  function releaseReader(c: DuckDBConnection) {
    const next = waitingForReader.shift();
    if (next) next(c);
    else idleReaders.push(c);
  }

  // A transaction begins lazily, at its first statement. An append is always inside one, never
  // autocommitted by the appender: an appender's flush runs on the calling (main) thread, and an
  // autocommitting flush would wait there for the log's fsync (2–3 ms a commit, an event loop
  // stalled for each), where COMMIT waits on DuckDB's thread and the main thread serves other
  // requests meanwhile.
  let begun = false;
  // the last write failed for want of disk space (cleared by the next that succeeds)
  let diskFull = false;
  // BEGIN runs on the main thread: a prepared statement's one task, run synchronously (~0.1 ms),
  // where an awaited statement waits for a turn on DuckDB's threads (0.5–1.3 ms a commit on a busy
  // 2-core machine, on the path of every ingest request)
  let beginStatement: DuckDBPreparedStatement | undefined;
  async function begin() {
    if (begun) return;
    beginStatement ??= await writer.prepare('BEGIN TRANSACTION');
    const pending = beginStatement.start();
    for (let tasks = 0; pending.runTask() !== DuckDBPendingResultState.RESULT_READY; tasks++) {
      if (tasks >= 100) {
        await pending.getResult();
        break;
      }
    }
    begun = true;
  }

  /** Appends inside the open transaction: the flush only moves the rows into it (no log write, no fsync). */
  async function append(table: string, columns: readonly BulkColumn[], length: number) {
    // appenders stay open between transactions: making one is a round trip to DuckDB's thread
    let appender = appenders.get(table);
    if (!appender) appenders.set(table, (appender = await writer.createAppender(table)));
    try {
      appendColumns(columns, length, (chunk) => appender.appendDataChunk(chunk));
      appender.flushSync();
    } catch (err) {
      // a failed flush leaves the appender unusable: drop it, the next append makes a new one
      appenders.delete(table);
      try {
        appender.closeSync();
      } catch {
        // already broken
      }
      throw err;
    }
  }

  const tx: StoreTx = {
    async run(sql, params) {
      await begin();
      await writer.run(sql, toValues(params), toTypes(params));
    },
    async query<T>(sql: string, params?: Params) {
      await begin();
      return readRows<T>(writer, sql, params);
    },
    async bulkAppend(table, columns, length) {
      await begin();
      await append(table, columns, length);
    },
  };

  function serialised<T>(fn: () => Promise<T>): Promise<T> {
    const result = writeChain.then(fn, fn);
    writeChain = result.catch(() => undefined);
    return result;
  }

  /**
   * CHECKPOINT waits for no one: DuckDB refuses it while another connection has a write open (a
   * key's last-use stamp, another module already running). Such writes are short: try again.
   */
  async function checkpointWhenQuiet() {
    for (let attempt = 1; ; attempt++) {
      try {
        return await serialised(() => writer.run('CHECKPOINT'));
      } catch (err) {
        if (attempt >= 100 || !/other write transactions/i.test((err as Error).message)) throw err;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  const store: Store = {
    kind: 'duckdb',

    async migrate(module: string, migrations: readonly Migration[]) {
      await serialised(() =>
        writer.run(
          `CREATE TABLE IF NOT EXISTS wattline_migrations (module VARCHAR, version INTEGER, name VARCHAR, applied_at TIMESTAMPTZ DEFAULT now(), PRIMARY KEY (module, version))`,
        ),
      );
      const applied = new Set(
        (
          await store.query<{ version: number }>(`SELECT version FROM wattline_migrations WHERE module = $1`, [module])
        ).map((r) => r.version),
      );
      let changed = false;
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (applied.has(m.version)) continue;
        await store.transaction(async (t) => {
          await t.run(m.sql);
          await t.run(`INSERT INTO wattline_migrations (module, version, name) VALUES ($1, $2, $3)`, [
            module,
            m.version,
            m.name,
          ]);
        });
        changed = true;
      }
      // DuckDB (1.5) cannot replay an ALTER TABLE from its write-ahead log after a crash ("Failure
      // while replaying WAL file … no default database set"): write schema changes to the database
      // file at once, so a process killed later never leaves one in the log
      if (changed) await checkpointWhenQuiet();
    },

    async checkpoint() {
      await checkpointWhenQuiet();
    },

    async backupTo(file: string) {
      // on a reader: one transaction that reads a snapshot and writes only the new file, so writers
      // go on meanwhile and none of their later commits is in the copy
      const c = await acquireReader();
      const alias = 'wattline_backup';
      try {
        await c.run(`ATTACH ${sqlString(file)} AS ${alias}`);
        try {
          await c.run(`COPY FROM DATABASE ${database} TO ${alias}`);
        } finally {
          await c.run(`DETACH ${alias}`);
        }
      } finally {
        releaseReader(c);
      }
    },

    async query<T>(sql: string, params?: Params) {
      const c = await acquireReader();
      try {
        return await readRows<T>(c, sql, params);
      } finally {
        releaseReader(c);
      }
    },

    async *streamNumbers(sql: string, params?: Params) {
      const c = await acquireReader();
      try {
        const result = await c.stream(sql, toValues(params), toTypes(params));
        // one DuckDB vector (2048 rows) at a time, copied out of DuckDB's memory as typed arrays
        for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
          const length = chunk.rowCount;
          const columns = Array.from({ length: chunk.columnCount }, (_, i) =>
            numbersOf(chunk!.getColumnVector(i), length),
          );
          yield { length, columns };
        }
      } finally {
        releaseReader(c);
      }
    },

    transaction<T>(fn: (t: StoreTx) => Promise<T>): Promise<T> {
      return serialised(async () => {
        if (closed) throw new Error('store is closed');
        begun = false;
        try {
          const result = await fn(tx);
          if (begun) await writer.run('COMMIT');
          diskFull = false;
          return result;
        } catch (err) {
          if (begun) await writer.run('ROLLBACK').catch(() => undefined);
          const seen = storeError(err);
          if (isDiskFull(seen)) diskFull = true;
          throw seen;
        } finally {
          begun = false;
        }
      });
    },

    async ready() {
      try {
        await store.query('SELECT 1 AS ok');
        // after a write refused for want of space: ready again only once there is room to write
        if (diskFull) diskFull = !(await hasRoomToWrite(dataDir));
        return !closed && !diskFull;
      } catch {
        return false;
      }
    },

    async close() {
      clearInterval(walTimer);
      await serialised(async () => {
        if (closed) return;
        closed = true;
        for (const a of appenders.values()) a.closeSync();
        beginStatement?.destroySync();
        await writer.run('CHECKPOINT').catch(() => undefined);
        for (const c of readers) c.closeSync();
        writer.closeSync();
        instance.closeSync();
      });
    },
  };
  return store;
}

async function readRows<T>(c: DuckDBConnection, sql: string, params?: Params): Promise<T[]> {
  const reader = await c.runAndReadAll(sql, toValues(params), toTypes(params));
  return numbersForBigints(reader.getRowObjectsJS()) as T[];
}

/**
 * A numeric vector as doubles. BIGINT is read as two 32-bit halves, so no BigInt is made per row;
 * every BIGINT we keep (epoch ms, counts, seq) fits in 2^53.
 */
function numbersOf(vector: unknown, length: number): Float64Array {
  const items = (vector as { items?: ArrayBufferView }).items;
  const out = new Float64Array(length);
  if (items instanceof BigInt64Array) {
    const lo = new Uint32Array(items.buffer, items.byteOffset, length * 2);
    const hi = new Int32Array(items.buffer, items.byteOffset, length * 2);
    for (let r = 0; r < length; r++) out[r] = hi[2 * r + 1] * TWO_POW_32 + lo[2 * r];
  } else if (items instanceof Float64Array || items instanceof Int32Array || items instanceof Float32Array) {
    out.set(items.subarray(0, length));
  } else {
    throw new Error(`streamNumbers: a selected column is not a number (${(vector as { type?: unknown }).type})`);
  }
  return out;
}

// BIGINT arrives as bigint; every value we keep in BIGINT (epoch ms, counts, seq) fits in 2^53.
function numbersForBigints(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const row of rows) for (const k in row) if (typeof row[k] === 'bigint') row[k] = Number(row[k]);
  return rows;
}

function toValues(params?: Params): DuckDBValue[] | undefined {
  if (!params) return undefined;
  // whole numbers bind as BIGINT so comparisons against BIGINT columns keep using zone maps
  return params.map((p) =>
    Array.isArray(p) ? listValue(p) : typeof p === 'number' && Number.isSafeInteger(p) ? BigInt(p) : (p as DuckDBValue),
  );
}

/**
 * DOUBLE for whole numbers beyond 2^53 (1e300, say): left to DuckDB's guess they bind as BIGINT,
 * which throws for any beyond 2^63 (found by fuzzing: a room's area of 3e50 was a 500). Undefined
 * elsewhere: DuckDB's guess from the value.
 */
function toTypes(params?: Params): DuckDBType[] | undefined {
  if (!params?.some((p) => typeof p === 'number' && Number.isInteger(p) && !Number.isSafeInteger(p))) return undefined;
  // an undefined entry is bound by its value's type (DuckDBPreparedStatement.bind)
  return params.map((p) =>
    typeof p === 'number' && Number.isInteger(p) && !Number.isSafeInteger(p) ? DOUBLE : undefined,
  ) as DuckDBType[];
}

const duckTypes: Record<BulkColumn['type'], DuckDBType> = {
  int32: INTEGER,
  int64: BIGINT,
  float64: DOUBLE,
  serial: BIGINT,
};

/**
 * Fills DuckDB data chunks straight from typed arrays: no per-value boxing, and int64 written as
 * two 32-bit halves so no BigInt is made per row (3.4M rows/s here vs 2.2M with per-row appends).
 */
function appendColumns(columns: readonly BulkColumn[], length: number, append: (chunk: DuckDBDataChunk) => void) {
  const types = columns.map((c) => duckTypes[c.type]);
  // one chunk for the whole append: the appender copies each chunk it is given, and a chunk made per
  // 2,048 rows is native memory that only a garbage collection frees (14 MB for half a million rows)
  const chunk = DuckDBDataChunk.create(types, Math.min(CHUNK_ROWS, length));
  for (let offset = 0; offset < length; offset += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, length - offset);
    if (chunk.rowCount !== n) chunk.rowCount = n;
    columns.forEach((column, i) => {
      // the vector exposes its typed-array buffer; writing it directly is the library's own bulk path
      const vector = chunk.getColumnVector(i) as unknown as { items: ArrayBufferView; flush(): void };
      const items = vector.items;
      if (column.type === 'int64' || column.type === 'serial') {
        const halves = new Uint32Array(items.buffer, items.byteOffset, n * 2);
        const src = column.type === 'int64' ? column.values : undefined;
        const first = column.type === 'serial' ? column.start + offset : 0;
        for (let r = 0; r < n; r++) {
          const v = src ? src[offset + r] : first + r;
          const hi = Math.floor(v / TWO_POW_32);
          halves[2 * r] = v - hi * TWO_POW_32;
          halves[2 * r + 1] = hi;
        }
      } else {
        (items as Int32Array | Float64Array).set(column.values.subarray(offset, offset + n) as never);
      }
      vector.flush();
    });
    append(chunk);
  }
}

/** A string literal for SQL that takes no parameters (ATTACH): quotes doubled. */
function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

const ROOM_PROBE_BYTES = 1024 * 1024;

/** Whether a megabyte can be written in `dir` now: a store refused for a full disk has room again. */
async function hasRoomToWrite(dir: string): Promise<boolean> {
  const probe = path.join(dir, `.room-probe-${process.pid}`);
  try {
    await fs.promises.writeFile(probe, Buffer.alloc(ROOM_PROBE_BYTES));
    return true;
  } catch {
    return false;
  } finally {
    await fs.promises.rm(probe, { force: true });
  }
}
