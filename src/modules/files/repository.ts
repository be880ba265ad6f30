import type { Store } from '../../core/store/index.js';

/** SQL for the files module's own tables (files_ledger, files_locations). */

export const FILE_STATUSES = ['pending', 'ingested', 'rejected', 'skipped'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

/** A file of the ledger. Times are UTC epoch ms. */
export interface LedgerEntry {
  location: string;
  path: string;
  size: number;
  modifiedMs: number | null;
  sha256: string | null;
  status: FileStatus;
  readings: number;
  error: string | null;
  errorLine: number | null;
  duplicateOf: string | null;
  firstProcessedMs: number | null;
  lastProcessedMs: number | null;
}

export interface LocationState {
  location: string;
  lastScanMs: number | null;
  lastSuccessMs: number | null;
  lastError: string | null;
  nextScanMs: number | null;
}

// BIGINT comes back as a bigint from DuckDB and as text from pg: numbers here, once
const LEDGER_COLUMNS = `location, path, CAST(size AS DOUBLE PRECISION) AS size,
  CAST(modified_ms AS DOUBLE PRECISION) AS "modifiedMs", sha256, status, CAST(readings AS DOUBLE PRECISION) AS readings,
  error, error_line AS "errorLine", duplicate_of AS "duplicateOf",
  CAST(first_processed_ms AS DOUBLE PRECISION) AS "firstProcessedMs",
  CAST(last_processed_ms AS DOUBLE PRECISION) AS "lastProcessedMs"`;

/** Every file of a location's ledger, by path. */
export async function ledgerOf(store: Store, location: string): Promise<Map<string, LedgerEntry>> {
  const rows = await store.query<LedgerEntry>(`SELECT ${LEDGER_COLUMNS} FROM files_ledger WHERE location = $1`, [
    location,
  ]);
  return new Map(rows.map((r) => [r.path, r]));
}

/** Every content ingested (any location), by SHA-256: the first file that held it, as `<location>:<path>`. */
export async function ingestedHashes(store: Store): Promise<Map<string, string>> {
  const rows = await store.query<{ sha256: string; location: string; path: string }>(
    `SELECT sha256, location, path FROM files_ledger WHERE status = 'ingested' AND sha256 IS NOT NULL
     ORDER BY first_processed_ms DESC`,
  );
  // the earliest last, so it is the one kept
  return new Map(rows.map((r) => [r.sha256, `${r.location}:${r.path}`]));
}

export async function saveEntry(store: Store, e: LedgerEntry): Promise<void> {
  await store.transaction((tx) =>
    tx.run(
      `INSERT INTO files_ledger (location, path, size, modified_ms, sha256, status, readings, error, error_line,
         duplicate_of, first_processed_ms, last_processed_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (location, path) DO UPDATE SET size = excluded.size, modified_ms = excluded.modified_ms,
         sha256 = excluded.sha256, status = excluded.status, readings = excluded.readings, error = excluded.error,
         error_line = excluded.error_line, duplicate_of = excluded.duplicate_of,
         first_processed_ms = excluded.first_processed_ms, last_processed_ms = excluded.last_processed_ms`,
      [
        e.location,
        e.path,
        e.size,
        e.modifiedMs,
        e.sha256,
        e.status,
        e.readings,
        e.error,
        e.errorLine,
        e.duplicateOf,
        e.firstProcessedMs,
        e.lastProcessedMs,
      ],
    ),
  );
}

/** A page of the ledger, newest processed first, and how many match. */
export async function listEntries(
  store: Store,
  filter: { status?: FileStatus; location?: string; limit: number; offset: number },
): Promise<{ entries: LedgerEntry[]; total: number }> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.status) where.push(`status = $${params.push(filter.status)}`);
  if (filter.location) where.push(`location = $${params.push(filter.location)}`);
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const [{ n }] = await store.query<{ n: number }>(
    `SELECT CAST(count(*) AS INTEGER) AS n FROM files_ledger ${clause}`,
    params,
  );
  const entries = await store.query<LedgerEntry>(
    `SELECT ${LEDGER_COLUMNS} FROM files_ledger ${clause}
     ORDER BY last_processed_ms DESC NULLS LAST, location, path LIMIT ${filter.limit} OFFSET ${filter.offset}`,
    params,
  );
  return { entries, total: Number(n) };
}

/** Files per location and status. */
export async function countsByStatus(store: Store): Promise<Map<string, Record<FileStatus, number>>> {
  const rows = await store.query<{ location: string; status: FileStatus; n: number }>(
    `SELECT location, status, CAST(count(*) AS INTEGER) AS n FROM files_ledger GROUP BY 1, 2`,
  );
  const out = new Map<string, Record<FileStatus, number>>();
  for (const r of rows) {
    const counts = out.get(r.location) ?? { pending: 0, ingested: 0, rejected: 0, skipped: 0 };
    counts[r.status] = Number(r.n);
    out.set(r.location, counts);
  }
  return out;
}

export async function saveLocationState(store: Store, s: LocationState): Promise<void> {
  await store.transaction((tx) =>
    tx.run(
      `INSERT INTO files_locations (location, last_scan_ms, last_success_ms, last_error, next_scan_ms)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (location) DO UPDATE SET last_scan_ms = excluded.last_scan_ms,
         last_success_ms = excluded.last_success_ms, last_error = excluded.last_error, next_scan_ms = excluded.next_scan_ms`,
      [s.location, s.lastScanMs, s.lastSuccessMs, s.lastError, s.nextScanMs],
    ),
  );
}

export async function locationStates(store: Store): Promise<Map<string, LocationState>> {
  const rows = await store.query<LocationState>(
    `SELECT location, CAST(last_scan_ms AS DOUBLE PRECISION) AS "lastScanMs",
       CAST(last_success_ms AS DOUBLE PRECISION) AS "lastSuccessMs", last_error AS "lastError",
       CAST(next_scan_ms AS DOUBLE PRECISION) AS "nextScanMs"
     FROM files_locations`,
  );
  return new Map(rows.map((r) => [r.location, r]));
}
