import type { Command } from 'commander';
import type { Client } from '../client.js';
import { formatTable } from '../table.js';

type ClientOpts = { url: string; key?: string };

interface LedgerFile {
  location: string;
  path: string;
  status: string;
  readings: number;
  error: string | null;
  line: number | null;
  last_processed: string | null;
}

interface ScanReport {
  location: string;
  listed: number;
  ingested: { path: string; readings: number }[];
  rejected: { path: string; reason: string }[];
  skipped: { path: string; reason: string }[];
  pending: { path: string; reason: string }[];
  error: string | null;
}

const dash = (v: unknown) => (v === null || v === undefined ? '-' : String(v));

/** One row per file of the ledger: location, path, status, readings, why, when. */
export function formatFilesTable(files: readonly LedgerFile[]): string {
  return formatTable([
    ['location', 'path', 'status', 'readings', 'why', 'processed'],
    ...files.map((f) => [
      f.location,
      f.path,
      f.status,
      String(f.readings),
      f.error ? (f.line ? `line ${f.line}: ${f.error}` : f.error) : '-',
      dash(f.last_processed),
    ]),
  ]);
}

/** What each scan did, a line per location and per file processed. */
export function formatScans(scans: readonly ScanReport[]): string {
  const lines: string[] = [];
  for (const s of scans) {
    if (s.error) {
      lines.push(`${s.location}: scan failed: ${s.error}`);
      continue;
    }
    lines.push(
      `${s.location}: ${s.listed} listed, ${s.ingested.length} ingested, ${s.rejected.length} rejected, ${s.skipped.length} skipped, ${s.pending.length} pending`,
    );
    for (const f of s.ingested) lines.push(`  ingested  ${f.path} (${f.readings} readings)`);
    for (const f of s.rejected) lines.push(`  rejected  ${f.path}: ${f.reason}`);
    for (const f of s.skipped) lines.push(`  skipped   ${f.path}: ${f.reason}`);
    for (const f of s.pending) lines.push(`  pending   ${f.path}: ${f.reason}`);
  }
  return lines.join('\n');
}

/** `wattline files scan|ls`: scan the watched locations now, list the ledger. */
export function registerFilesCommands(
  program: Command,
  withClient: (cmd: Command) => Command,
  clientFrom: (opts: ClientOpts) => Client,
) {
  const files = program.command('files').description('file drops: watched FTP servers and folders, and the ledger');
  withClient(
    files
      .command('scan')
      .description('scan every watched location now (needs an admin key) and print what each scan did')
      .option('--location <name>', 'only this location')
      .option('--json', 'print the JSON reply'),
  ).action(async (opts: ClientOpts & { location?: string; json?: boolean }) => {
    const reply = await clientFrom(opts).json<{ scans: ScanReport[] }>(
      'POST',
      '/api/v1/ingestion/trigger',
      opts.location === undefined ? {} : { location: opts.location },
    );
    console.log(opts.json ? JSON.stringify(reply, null, 2) : formatScans(reply.scans));
  });
  withClient(
    files
      .command('ls')
      .description('list the ledger, newest first: every file seen and what became of it')
      .option('--status <status>', 'ingested, rejected, pending or skipped')
      .option('--location <name>', 'only this location')
      .option('--limit <n>', 'at most this many files', '100')
      .option('--json', 'print the JSON reply'),
  ).action(async (opts: ClientOpts & { status?: string; location?: string; limit: string; json?: boolean }) => {
    const query = new URLSearchParams({ limit: opts.limit });
    if (opts.status !== undefined) query.set('status', opts.status);
    if (opts.location !== undefined) query.set('location', opts.location);
    const reply = await clientFrom(opts).json<{ files: LedgerFile[]; total: number }>(
      'GET',
      `/api/v1/ingestion/files?${query}`,
    );
    console.log(opts.json ? JSON.stringify(reply, null, 2) : formatFilesTable(reply.files));
  });
}
