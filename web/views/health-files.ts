import { DateTime } from 'luxon';
import { get, type Json } from '../api.js';
import { h, problem } from '../dom.js';
import type { ViewContext } from '../view.js';

const STATUSES = ['ingested', 'rejected', 'pending', 'skipped'] as const;
/** Ledger rows shown; the rest are counted. */
const LEDGER_ROWS = 50;

/**
 * The files module's part of Data health: the watched locations (last and next scan, last error,
 * files by status; `GET /api/v1/ingestion/status`) and the ledger, filtered by status with
 * `?files=` (`GET /api/v1/ingestion/files`), a rejected file with its line and reason.
 */
export async function filesPanel(
  ctx: ViewContext,
  panel: HTMLElement,
  table: (columns: string[], rows: HTMLElement[], testId: string) => HTMLElement,
) {
  panel.append(h('h2', {}, 'File drops'));
  if (!ctx.config.modules.includes('files')) {
    panel.append(
      h(
        'p',
        { class: 'note' },
        'No watched locations: set files.locations (or FTP_SA4CPS_HOST) to poll FTP servers or folders for load curves.',
      ),
    );
    return;
  }
  const zone = ctx.config.timezone;
  const time = (iso: string | null) => (iso ? DateTime.fromISO(iso).setZone(zone).toFormat('d LLL yyyy HH:mm') : '—');
  const status = STATUSES.find((s) => s === ctx.params.get('files'));
  let locations: Json[];
  let ledger: Json;
  try {
    [locations, ledger] = await Promise.all([
      get('/api/v1/ingestion/status').then((r) => r.locations),
      get(`/api/v1/ingestion/files?limit=${LEDGER_ROWS}${status ? `&status=${status}` : ''}`),
    ]);
  } catch (err) {
    panel.append(problem((err as Error).message));
    return;
  }
  const locationRows = locations.map((l) =>
    h(
      'tr',
      { 'data-location': l.name, 'data-testid': 'location-row' },
      h(
        'td',
        { 'data-label': 'Location' },
        l.name === l.url ? null : h('strong', {}, l.name, ' '),
        h('code', {}, l.url),
      ),
      h('td', { 'data-label': 'Last scan' }, time(l.last_scan)),
      h('td', { 'data-label': 'Next scan' }, time(l.next_scan)),
      h(
        'td',
        { 'data-label': 'Files' },
        `${l.files_ingested} ingested, ${l.files_rejected} rejected, ${l.files_pending} pending, ${l.files_skipped} skipped`,
      ),
      h(
        'td',
        { 'data-label': 'Last error', 'data-testid': 'location-error' },
        l.last_error ? h('span', { class: 'error' }, l.last_error) : '—',
      ),
    ),
  );
  panel.append(table(['Location', 'Last scan', 'Next scan', 'Files', 'Last error'], locationRows, 'locations'));

  const filter = h('p', { class: 'health-pager', 'data-testid': 'ledger-filter' }, 'Files: ');
  for (const s of [undefined, ...STATUSES]) {
    const label = s ?? 'all';
    filter.append(
      s === status
        ? h('strong', { 'aria-current': 'true' }, label)
        : h('a', { href: ctx.href({ files: s }), 'data-nav': '' }, label),
      ' ',
    );
  }
  panel.append(filter);
  const files: Json[] = ledger.files;
  if (!files.length) {
    panel.append(h('p', { class: 'note' }, status ? `No ${status} files.` : 'No files seen yet.'));
    return;
  }
  const fileRows = files.map((f) =>
    h(
      'tr',
      { 'data-file': f.path, 'data-status': f.status, 'data-testid': 'ledger-row' },
      h('td', { 'data-label': 'File' }, h('code', {}, f.path)),
      h(
        'td',
        { 'data-label': 'Status' },
        h(
          'span',
          { class: `badge ${f.status === 'ingested' ? 'online' : f.status === 'rejected' ? 'offline' : ''}` },
          f.status,
        ),
      ),
      h('td', { 'data-label': 'Readings' }, String(f.readings)),
      h(
        'td',
        { 'data-label': 'Why', 'data-testid': 'ledger-error' },
        f.error
          ? h(
              'span',
              { class: f.status === 'rejected' ? 'error' : 'muted' },
              f.line ? `line ${f.line}: ${f.error}` : f.error,
            )
          : '—',
      ),
      h('td', { 'data-label': 'Processed' }, time(f.last_processed)),
    ),
  );
  panel.append(table(['File', 'Status', 'Readings', 'Why', 'Processed'], fileRows, 'ledger'));
  if (ledger.total > files.length) panel.append(h('p', { class: 'muted' }, `and ${ledger.total - files.length} more`));
}
