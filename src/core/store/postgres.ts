import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { from as copyFrom } from 'pg-copy-streams';
import {
  BackupNotSupported,
  type BulkColumn,
  type Migration,
  type Params,
  type Row,
  type Store,
  type StoreTx,
} from './store.js';
import { isStoreUnreachable, storeError } from './unavailable.js';

const INT8_OID = 20;
const NUMERIC_OID = 1700;
// rows per COPY chunk written to the socket
const COPY_ROWS_PER_CHUNK = 8192;
// rows a streamed read fetches at a time
const STREAM_ROWS_PER_CHUNK = 8192;

export interface PostgresStoreOptions {
  url: string;
  poolSize: number;
  /** Schema for every table (created if missing); tests give each run its own. */
  schema?: string;
}

/**
 * The server store: PostgreSQL through a connection pool. Transactions run concurrently (several
 * processes write anyway); bulk loads use COPY. int8 and numeric come back as numbers: every value
 * we keep in them (epoch ms, counts) fits in 2^53.
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const toNumber = (v: string) => Number(v);
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID || oid === NUMERIC_OID
        ? toNumber
        : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    types,
    // every connection starts in the schema, before its first query
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // A client whose connection drops emits 'error'. The pool listens only while a client is idle;
  // one checked out by a transaction or a streamed read would crash the process with an unhandled
  // 'error' event. Every client gets a listener for its whole life: the failure reaches whoever
  // awaits its query, the client is discarded on release, and the next connect reconnects.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  /** Hands a client back; one whose connection failed is discarded, not reused. */
  const release = (client: pg.PoolClient, err?: unknown) =>
    client.release(err !== undefined && isStoreUnreachable(err) ? (err as Error) : undefined);
  let closed = false;

  /**
   * Runs `fn` in a transaction holding the migration lock. Several processes may start at once on a
   * new schema, and PostgreSQL's CREATE … IF NOT EXISTS is not safe against a concurrent create of
   * the same name (it fails on a catalog unique index): under the lock the first creates, the rest
   * see it created.
   */
  async function withMigrationLock<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return store.transaction(async (tx) => {
      await tx.run(`SELECT pg_advisory_xact_lock(hashtext('wattline_migrations'))`);
      return fn(tx);
    });
  }

  const txFor = (client: pg.PoolClient): StoreTx => ({
    async run(sql, params) {
      await client.query(sql, params as unknown[] | undefined);
    },
    async query<T>(sql: string, params?: Params) {
      return (await client.query(sql, params as unknown[] | undefined)).rows as T[];
    },
    async bulkAppend(table, columns, length) {
      // columns come in table order, as the interface says, so COPY needs no column list
      const copy = client.query(copyFrom(`COPY ${table} FROM STDIN`));
      await pipeline(Readable.from(copyText(columns, length)), copy);
    },
  });

  const store: Store = {
    kind: 'postgres',

    async migrate(module: string, migrations: readonly Migration[]) {
      await withMigrationLock((tx) =>
        tx.run(
          `CREATE TABLE IF NOT EXISTS wattline_migrations (module TEXT, version INTEGER, name TEXT, applied_at TIMESTAMPTZ DEFAULT now(), PRIMARY KEY (module, version))`,
        ),
      );
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        // several processes may start at once: the first to take the lock applies, the rest see it applied
        await withMigrationLock(async (tx) => {
          const done = await tx.query(`SELECT 1 FROM wattline_migrations WHERE module = $1 AND version = $2`, [
            module,
            m.version,
          ]);
          if (done.length) return;
          await tx.run(m.sql);
          await tx.run(`INSERT INTO wattline_migrations (module, version, name) VALUES ($1, $2, $3)`, [
            module,
            m.version,
            m.name,
          ]);
        });
      }
    },

    async query<T = Row>(sql: string, params?: Params) {
      try {
        return (await pool.query(sql, params as unknown[] | undefined)).rows as T[];
      } catch (err) {
        throw storeError(err);
      }
    },

    async *streamNumbers(sql: string, params?: Params) {
      const client = await pool.connect().catch((err: unknown) => {
        throw storeError(err);
      });
      // a server-side cursor: PostgreSQL hands over a chunk of rows per round trip, as arrays
      const cursor = client.query(
        new Cursor<unknown[]>(sql, params as unknown[] | undefined, { types, rowMode: 'array' }),
      );
      // its failure reaches read() below; without a listener an 'error' event would crash the process
      cursor.on('error', () => undefined);
      let failure: unknown;
      try {
        for (;;) {
          const rows = await cursor.read(STREAM_ROWS_PER_CHUNK).catch((err: unknown) => {
            failure = err;
            throw storeError(err);
          });
          if (!rows.length) break;
          const columns = rows[0].map((_, c) => Float64Array.from(rows, (row) => Number(row[c])));
          yield { length: rows.length, columns };
        }
      } finally {
        if (failure === undefined) {
          await cursor.close().catch(() => undefined);
          client.release();
        } else {
          // closing a failed cursor waits for a reply a dropped connection never sends: discard the client
          client.release(failure instanceof Error ? failure : new Error(String(failure)));
        }
      }
    },

    async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      if (closed) throw new Error('store is closed');
      const client = await pool.connect().catch((err: unknown) => {
        throw storeError(err);
      });
      let failure: unknown;
      try {
        await client.query('BEGIN');
        const result = await fn(txFor(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        failure = err;
        await client.query('ROLLBACK').catch(() => undefined);
        throw storeError(err);
      } finally {
        release(client, failure);
      }
    },

    async ready() {
      if (closed) return false;
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },

    async checkpoint() {},

    async backupTo() {
      throw new BackupNotSupported('postgres');
    },

    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  if (schema) {
    try {
      await withMigrationLock((tx) => tx.run(`CREATE SCHEMA IF NOT EXISTS ${schema}`));
    } catch (err) {
      await pool.end();
      throw err;
    }
  }
  return store;
}

/** COPY text format, a chunk of rows at a time. Numbers only: nothing to escape. */
function* copyText(columns: readonly BulkColumn[], length: number): Generator<string> {
  for (let offset = 0; offset < length; offset += COPY_ROWS_PER_CHUNK) {
    const end = Math.min(length, offset + COPY_ROWS_PER_CHUNK);
    let text = '';
    for (let r = offset; r < end; r++) {
      for (let c = 0; c < columns.length; c++) {
        const column = columns[c];
        text += (c ? '\t' : '') + (column.type === 'serial' ? column.start + r : column.values[r]);
      }
      text += '\n';
    }
    yield text;
  }
}
