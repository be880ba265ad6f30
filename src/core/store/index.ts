import { createDuckDbStore } from './duckdb.js';
import { createPostgresStore } from './postgres.js';
import type { Store } from './store.js';

export type { Store, StoreTx, BulkColumn, Migration, NumericChunk, Row, Params, StoreKind } from './store.js';
export { loadMigrations } from './migrations.js';
export { BackupNotSupported } from './store.js';

/** Opens the store the config names: PostgreSQL when `databaseUrl` is set, else the embedded DuckDB file. */
export async function openStore(options: {
  dataDir: string;
  databaseUrl?: string;
  poolSize: number;
  schema?: string;
  /** The embedded store's DuckDB `memory_limit` (e.g. `2GB`); unset: a quarter of the machine's RAM. */
  duckdbMemoryLimit?: string;
  /** The embedded store's DuckDB `threads`; unset: the machine's available parallelism. */
  duckdbThreads?: number;
}): Promise<Store> {
  if (options.databaseUrl)
    return createPostgresStore({ url: options.databaseUrl, poolSize: options.poolSize, schema: options.schema });
  return createDuckDbStore(options.dataDir, {
    memoryLimit: options.duckdbMemoryLimit,
    threads: options.duckdbThreads,
  });
}
