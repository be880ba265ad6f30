import { createDuckDbStore } from './duckdb.js';
import type { Store } from './store.js';

export type { Store, StoreTx, BulkColumn, Migration, Row, Params, StoreKind } from './store.js';
export { loadMigrations } from './migrations.js';

/** Opens the store the config names: the embedded DuckDB file in the data directory. */
export async function openStore(options: { dataDir: string }): Promise<Store> {
  return createDuckDbStore(options.dataDir);
}
