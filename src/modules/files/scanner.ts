import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readChunks } from './read-chunks.js';
import type { Bus } from '../../core/bus/index.js';
import { Unavailable } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { READINGS_TOPIC } from '../../core/readings.js';
import type { Store } from '../../core/store/index.js';
import type { BuildingsService } from '../buildings/index.js';
import type { ReadingsService } from '../readings/index.js';
import { concatBatches } from './batches.js';
import { emitDataIngestion } from './events.js';
import { type Location, LocationError, type RemoteFile } from './locations/index.js';
import { parseFile } from './parsers/index.js';
import { FileRejected } from './parsers/types.js';
import { ingestedHashes, type LedgerEntry, ledgerOf, saveEntry } from './repository.js';
import type { WatchedLocation } from './settings.js';

/** A watched location as the scanner works it: its name, settings and open connection. */
export interface ScannedLocation {
  name: string;
  settings: WatchedLocation;
  location: Location;
}

/** What one scan found and did. */
export interface ScanReport {
  location: string;
  listed: number;
  ingested: { path: string; readings: number; replaced: boolean }[];
  rejected: { path: string; line: number | null; reason: string }[];
  skipped: { path: string; reason: string; duplicate_of: string | null }[];
  pending: { path: string; reason: string }[];
  /** The scan itself failed (unreachable, refused login, missing folder): nothing was processed. */
  error: string | null;
}

export interface ScannerDeps {
  store: Store;
  bus: Bus;
  readings: ReadingsService;
  buildings: BuildingsService;
  log: Logger;
  now: () => number;
  /** Downloads land here (`<dataDir>/files-tmp`), are parsed from there and removed. */
  tempDir: string;
  settleMs: number;
  maxFileBytes: number;
}

const STILL_WRITTEN = 'still being written (changed since the last listing): waits for the next scan';

/** A sensor id from a series key (ids are one URL path segment), as the devices module names them. */
const sensorIdOf = (series: string) => series.replaceAll('/', '_');

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of readChunks(file)) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * Scans watched locations: lists, decides per file from the ledger (new, changed, unchanged, still
 * being written, a copy), downloads to a temporary file, parses it whole, and only then stores
 * its readings, so a bad file stores nothing. Scans of one location never overlap.
 */
export function createScanner(deps: ScannerDeps) {
  const { store, log } = deps;
  /** Each location's last listing: a file is taken once it is the same in two listings running. */
  const lastListing = new Map<string, Map<string, RemoteFile>>();
  const running = new Map<string, Promise<ScanReport>>();
  /** Sensors registered by this process: each meter point is registered once, not once per file. */
  const ensured = new Set<string>();
  fs.mkdirSync(deps.tempDir, { recursive: true });

  function scan(loc: ScannedLocation): Promise<ScanReport> {
    // a scan asked for while one runs waits for it, then runs: it may see files the other missed
    const previous = running.get(loc.name) ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => scanOnce(loc));
    running.set(loc.name, next);
    void next.finally(() => {
      if (running.get(loc.name) === next) running.delete(loc.name);
    });
    return next;
  }

  async function scanOnce(loc: ScannedLocation): Promise<ScanReport> {
    const report: ScanReport = {
      location: loc.name,
      listed: 0,
      ingested: [],
      rejected: [],
      skipped: [],
      pending: [],
      error: null,
    };
    let listed: RemoteFile[];
    try {
      listed = await loc.location.list();
    } catch (err) {
      report.error = err instanceof LocationError ? err.message : `${loc.location.display}: ${(err as Error).message}`;
      log.warn({ location: loc.name, error: report.error }, 'file scan failed');
      return report;
    }
    report.listed = listed.length;
    const ledger = await ledgerOf(store, loc.name);
    // the content already ingested anywhere, by hash: a copy is found without a query per file
    const ingested = await ingestedHashes(store);
    const before = lastListing.get(loc.name);
    lastListing.set(loc.name, new Map(listed.map((f) => [f.path, f])));
    for (const file of listed) {
      const known = ledger.get(file.path);
      if (known && known.status !== 'pending' && sameListing(known, file)) continue; // done with, unchanged
      if (file.size > deps.maxFileBytes) {
        if (known?.status === 'skipped' && sameListing(known, file)) continue;
        const reason = `larger than files.maxFileBytes (${file.size} > ${deps.maxFileBytes} bytes)`;
        await record(loc, file, known, { status: 'skipped', error: reason });
        report.skipped.push({ path: file.path, reason, duplicate_of: null });
        continue;
      }
      // taken when two listings running agree, or when its time says nobody wrote it for settleMs
      const seen = before?.get(file.path) ?? (known?.status === 'pending' ? known : undefined);
      const settled =
        (seen !== undefined && sameListing(seen, file)) ||
        (file.modifiedMs !== null && deps.now() - file.modifiedMs >= deps.settleMs);
      if (!settled) {
        await record(loc, file, known, { status: 'pending', error: STILL_WRITTEN, processed: false });
        report.pending.push({ path: file.path, reason: STILL_WRITTEN });
        continue;
      }
      try {
        await processFile(loc, file, known, ingested, report);
      } catch (err) {
        report.error = `${(err as Error).message}: the scan stopped, the rest waits for the next one`;
        log.warn({ location: loc.name, error: report.error }, 'file scan stopped');
        break;
      }
    }
    return report;
  }

  async function processFile(
    loc: ScannedLocation,
    file: RemoteFile,
    known: LedgerEntry | undefined,
    ingested: Map<string, string>,
    report: ScanReport,
  ) {
    const tmp = path.join(deps.tempDir, `${randomUUID()}.partial`);
    try {
      await loc.location.download(file, tmp);
      const sha256 = await sha256Of(tmp);
      if (known?.sha256 === sha256 && known.status !== 'pending') {
        // touched, same content: nothing to do but remember the new listing
        await record(loc, file, known, { status: known.status, sha256, error: known.error, keep: true });
        report.skipped.push({ path: file.path, reason: 'content unchanged', duplicate_of: null });
        return;
      }
      const here = `${loc.name}:${file.path}`;
      const original = ingested.get(sha256);
      if (original !== undefined && original !== here) {
        const duplicateOf = original;
        const reason = `the same content as ${duplicateOf}, ingested before`;
        await record(loc, file, known, { status: 'skipped', sha256, error: reason, duplicateOf });
        report.skipped.push({ path: file.path, reason, duplicate_of: duplicateOf });
        return;
      }
      let parsed: Awaited<ReturnType<typeof parseFile>>;
      try {
        parsed = await parseFile(tmp, {
          zone: loc.settings.timezone,
          seriesPrefix: loc.settings.prefix,
          name: path.posix.basename(file.path),
        });
      } catch (err) {
        // a file the parsers cannot read (FileRejected, or anything else they throw) is rejected for
        // good: trying it again on every scan would fail the same way
        const rejected =
          err instanceof FileRejected ? err : new FileRejected(0, `could not be read: ${(err as Error).message}`);
        const reason = rejected.line ? `line ${rejected.line}: ${rejected.reason}` : rejected.reason;
        await record(loc, file, known, {
          status: 'rejected',
          sha256,
          error: rejected.reason,
          errorLine: rejected.line || null,
        });
        report.rejected.push({ path: file.path, line: rejected.line || null, reason });
        await loc.location.reject(file).catch((e) => log.warn({ err: e, path: file.path }, 'rejected file not moved'));
        return;
      }
      await storeReadings(parsed);
      const replaced = Boolean(known?.sha256 && known.sha256 !== sha256);
      if (replaced)
        log.info(
          { location: loc.name, path: file.path },
          'file content changed: ingested again, its values replace the old ones',
        );
      await record(loc, file, known, { status: 'ingested', sha256, readings: parsed.rows, replaced });
      if (!ingested.has(sha256)) ingested.set(sha256, here);
      report.ingested.push({ path: file.path, readings: parsed.rows, replaced });
    } catch (err) {
      // a dropped connection, a timeout, the store away: nothing stored; the next scan tries again
      const reason = err instanceof LocationError ? err.message : (err as Error).message;
      log.warn({ location: loc.name, path: file.path, error: reason }, 'file not ingested: retried on the next scan');
      await record(loc, file, known, { status: 'pending', error: reason }).catch(() => undefined);
      report.pending.push({ path: file.path, reason });
      // the store or the bus away: every other file would fail the same way after its download
      if (err instanceof Unavailable) throw err;
    } finally {
      await fs.promises.rm(tmp, { force: true });
    }
  }

  /** Describes the file's series, stores its readings as one batch, then registers its meter points as sensors. */
  async function storeReadings(parsed: Awaited<ReturnType<typeof parseFile>>) {
    if (!parsed.rows) return;
    // described only where the catalog says otherwise: most files add days to known meter points
    const catalog = new Map((await deps.readings.catalog(parsed.series.map((s) => s.key))).map((e) => [e.key, e]));
    const changed = parsed.series.filter((s) => {
      const e = catalog.get(s.key);
      return !e || e.unit !== s.unit || e.kind !== s.kind || (s.intervalS !== null && e.intervalS !== s.intervalS);
    });
    if (changed.length)
      await deps.readings.describe(
        changed.map((s) => ({ key: s.key, unit: s.unit, kind: s.kind, intervalS: s.intervalS ?? undefined })),
      );
    const batch = concatBatches(parsed.batches);
    parsed.batches.length = 0; // the parts, copied into one: let them go while it is stored
    await deps.bus.publish(READINGS_TOPIC, batch);
    const meters = parsed.series.filter((s) => s.meterPoint !== null && !ensured.has(sensorIdOf(s.key)));
    if (meters.length) {
      await deps.buildings.ensureSensors(
        meters.map((s) => ({
          sensorId: sensorIdOf(s.key),
          name: s.meterPoint!,
          sensorType: 'energy' as const,
          series: s.key,
        })),
      );
      for (const s of meters) ensured.add(sensorIdOf(s.key));
    }
  }

  /** Writes the file's ledger entry and announces it on `data_ingestion`. */
  async function record(
    loc: ScannedLocation,
    file: RemoteFile,
    known: LedgerEntry | undefined,
    what: {
      status: LedgerEntry['status'];
      sha256?: string;
      readings?: number;
      error?: string | null;
      errorLine?: number | null;
      duplicateOf?: string;
      replaced?: boolean;
      /** false: listed, not processed (no processing times). */
      processed?: boolean;
      /** Keeps the entry's readings and outcome (content unchanged). */
      keep?: boolean;
    },
  ) {
    const now = deps.now();
    const processed = what.processed ?? true;
    const entry: LedgerEntry = {
      location: loc.name,
      path: file.path,
      size: file.size,
      modifiedMs: file.modifiedMs,
      sha256: what.sha256 ?? known?.sha256 ?? null,
      status: what.status,
      readings: what.keep ? (known?.readings ?? 0) : (what.readings ?? 0),
      error: what.error ?? null,
      errorLine: what.keep ? (known?.errorLine ?? null) : (what.errorLine ?? null),
      duplicateOf: what.keep ? (known?.duplicateOf ?? null) : (what.duplicateOf ?? null),
      firstProcessedMs: known?.firstProcessedMs ?? (processed ? now : null),
      lastProcessedMs: processed ? now : (known?.lastProcessedMs ?? null),
    };
    await saveEntry(store, entry);
    if (!processed || what.keep) return;
    emitDataIngestion(deps.bus, {
      type: 'data_ingestion',
      location: loc.name,
      path: file.path,
      status: entry.status,
      readings: entry.readings,
      error: entry.error,
      line: entry.errorLine,
      duplicate_of: entry.duplicateOf,
      replaced: what.replaced ?? false,
      at: new Date(now).toISOString(),
    });
  }

  return { scan };
}

export type Scanner = ReturnType<typeof createScanner>;

function sameListing(a: { size: number; modifiedMs: number | null }, b: RemoteFile): boolean {
  return a.size === b.size && a.modifiedMs === b.modifiedMs;
}
