/**
 * The store interface every module's repository speaks. SQL lives in the modules; what differs
 * between engines (bulk load, placeholders, bucket expressions) lives behind this interface.
 * DuckDB (embedded) is one implementation; PostgreSQL is the other (issue #3).
 */
export type StoreKind = 'duckdb' | 'postgres';

/** Column types a bulk load can carry without per-value boxing. */
export type BulkColumn =
  | { type: 'int32'; values: Int32Array }
  | { type: 'int64'; values: Float64Array } // whole numbers within ±2^53, e.g. epoch milliseconds
  | { type: 'float64'; values: Float64Array }
  // int64 numbers start, start + 1, … one per row: a numbering made on the way in rather than an array
  | { type: 'serial'; start: number };

export type Row = Record<string, unknown>;
export type Params = readonly (string | number | boolean | null | readonly string[])[];

/** Rows `0 … length-1` of a streamed read: one array per selected column, in select order. */
export interface NumericChunk {
  length: number;
  columns: Float64Array[];
}

/**
 * The statements of one transaction: all of them commit when `fn` resolves, none if it rejects,
 * appends included, on both engines.
 */
export interface StoreTx {
  run(sql: string, params?: Params): Promise<void>;
  query<T = Row>(sql: string, params?: Params): Promise<T[]>;
  /**
   * Appends `length` rows to `table`; columns in table order. Statements after it in the same
   * transaction see the rows. Keep the arrays unchanged until the transaction has resolved: DuckDB
   * holds an append back until the next statement or the end of `fn`, so that an append that is a
   * transaction's only write (the readings persistor's steady state) commits as a single
   * statement once `fn` has resolved, with no BEGIN/COMMIT round trips, and is dropped unwritten
   * if `fn` rejects. An append's own failure may therefore surface from `transaction` rather than
   * from this call.
   */
  bulkAppend(table: string, columns: readonly BulkColumn[], length: number): Promise<void>;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Every method rejects with `Unavailable` (core/errors.ts) when the store cannot be reached now
 * (connection refused or dropped, server shutting down, out of connections: see unavailable.ts),
 * and with the engine's own error when it refused the statement.
 */
export interface Store {
  readonly kind: StoreKind;
  /** Applies the module's migrations not yet applied, in version order, each in a transaction. */
  migrate(module: string, migrations: readonly Migration[]): Promise<void>;
  /** A read on its own snapshot; may run concurrently with writes. */
  query<T = Row>(sql: string, params?: Params): Promise<T[]>;
  /**
   * A read of numbers streamed in columnar chunks, for answers too big to hold (dumps): memory
   * stays at about one chunk whatever the result's size, and no object is made per row. Every
   * selected column must be a number that is never NULL. Leaving the loop releases the connection.
   */
  streamNumbers(sql: string, params?: Params): AsyncIterable<NumericChunk>;
  /** Writes are serialised: one transaction at a time, committed when `fn` resolves. */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  ready(): Promise<boolean>;
  /**
   * Writes what the log holds into the database file, so the space of rows deleted since can be
   * reused (embedded store; PostgreSQL's own background writer does this, so there it does nothing).
   */
  checkpoint(): Promise<void>;
  /**
   * Writes a consistent copy of the whole database to `file` (a new DuckDB file) while writes go on:
   * the copy is one read transaction, so it holds exactly the commits made before it began. Embedded
   * store only: PostgreSQL is backed up with its own tools, and rejects with `BackupNotSupported`.
   */
  backupTo(file: string): Promise<void>;
  close(): Promise<void>;
}

/** A backup asked of a store that is backed up with its own tools (PostgreSQL: pg_dump, base backups). */
export class BackupNotSupported extends Error {
  constructor(readonly kind: StoreKind) {
    super(`the ${kind} store is backed up with its own tools`);
  }
}
