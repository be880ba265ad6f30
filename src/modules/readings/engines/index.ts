import type { Store } from '../../../core/store/index.js';
import type { ReadingsStorage } from '../storage.js';
import { DuckDbReadings } from './duckdb/duckdb-readings.js';
import { PostgresReadings } from './postgres/postgres-readings.js';

/**
 * The readings engine for `store`: the one place that asks which store it is. `catalogSaveMs`
 * (DuckDB only) is how often the in-memory catalog's stats are written back.
 */
export async function openEngine(store: Store, options: { catalogSaveMs: number }): Promise<ReadingsStorage> {
  switch (store.kind) {
    case 'duckdb':
      return DuckDbReadings.open({ store, catalogSaveMs: options.catalogSaveMs });
    case 'postgres':
      return new PostgresReadings(store);
  }
}
