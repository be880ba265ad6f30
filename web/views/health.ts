import { DateTime } from 'luxon';
import { get, type Json } from '../api.js';
import { h, problem } from '../dom.js';
import type { View, ViewContext } from '../view.js';
import { filesPanel } from './health-files.js';
import { emptyState, type Series } from './overview.js';

/** A catalog entry as the health view reads it. */
interface Entry extends Series {
  count: number;
  interval_s: number | null;
}

/** Series per page (`?cursor=` pages on): the last readings and gaps of a page cost a bounded amount of work. */
const PAGE = 50;
/** Most count buckets per series in the period (50 series × 1,500 stays under the query's 100,000 points). */
const MAX_BUCKETS = 1500;
/** Points one count query may ask for, below the API's 100,000. */
const POINTS_PER_QUERY = 90_000;
/**
 * A gap is a run of empty buckets lasting at least this many times the series' expected interval
 * (its `interval_s`, else the mean spacing of its readings): one late reading is not a gap.
 */
const GAP_FACTOR = 3;
/** Gaps listed per series; the rest are counted. */
const GAPS_SHOWN = 3;

const WINDOWS: [string, number][] = [
  ['1m', 60_000],
  ['5m', 300_000],
  ['15m', 900_000],
  ['30m', 1_800_000],
  ['1h', 3_600_000],
  ['1d', 86_400_000],
];

interface Gap {
  start: number;
  end: number;
}

/** Data health: each series' last reading and gaps in the period, the pull sources' status and the file drops. */
export const health: View = {
  id: 'health',
  title: 'Data health',
  async render(ctx) {
    const sources = h('section', { class: 'panel', 'aria-label': 'Pull sources' });
    const series = h('section', { class: 'panel', 'aria-label': 'Series' });
    const files = h('section', { class: 'panel', 'aria-label': 'File drops' });
    ctx.root.append(series, sources, files);
    // each panel shows its own answer or error: one failing request does not blank the page
    await Promise.all([seriesPanel(ctx, series), sourcesPanel(ctx, sources), filesPanel(ctx, files, table)]);
  },
};

async function seriesPanel(ctx: ViewContext, panel: HTMLElement) {
  const { period } = ctx;
  panel.append(h('h2', {}, `Series: last reading and gaps, ${period.label}`));
  let page: { series: Entry[]; next: string | null };
  try {
    page = await get('/api/v1/series', { limit: String(PAGE), cursor: ctx.params.get('cursor') ?? undefined });
  } catch (err) {
    panel.append(problem((err as Error).message));
    return;
  }
  if (page.series.length === 0 && !ctx.params.get('cursor')) {
    panel.replaceWith(emptyState(ctx, []));
    return;
  }
  panel.append(
    h(
      'p',
      { class: 'note' },
      `A gap is at least ${GAP_FACTOR}× a series' interval (its interval_s, else the mean spacing of its readings) without a reading, ` +
        'counted in buckets of at least that interval (coarser on long periods, so shorter gaps are not seen there).',
    ),
  );
  const [names, latest, gaps] = await Promise.all([
    sensorNames(ctx),
    latestReadings(page.series),
    gapsOf(ctx, page.series),
  ]);
  if (names instanceof Error) panel.append(problem(names.message));
  if (gaps instanceof Error) panel.append(problem(gaps.message));
  const rows = page.series.map((s) =>
    seriesRow(ctx, s, names instanceof Error ? undefined : names.get(s.key), latest.get(s.key), gaps),
  );
  panel.append(table(['Series', 'Last reading', 'Age', 'Value', 'Gaps in the period'], rows, 'series-health'));
  if (page.next || ctx.params.get('cursor')) panel.append(pager(ctx, page.next));
}

/** Which sensor uses each series (when the buildings module is on). */
async function sensorNames(ctx: ViewContext): Promise<Map<string, string> | Error> {
  if (!ctx.config.modules.includes('buildings')) return new Map();
  try {
    const body = await get('/api/v1/sensors/get', { limit: '10000' });
    return new Map(body.sensors.map((s: Json) => [s.series, s.name]));
  } catch (err) {
    return err as Error;
  }
}

/** Each series' latest reading, or the error reading it: one small request per series of the page. */
async function latestReadings(page: Entry[]): Promise<Map<string, Json | Error>> {
  const answers = await Promise.all(
    page.map((s) => {
      if (s.lastTime === null) return null;
      const path = `/api/v1/series/${s.key.split('/').map(encodeURIComponent).join('/')}/latest`;
      return get(path).catch((err: Error) => err);
    }),
  );
  return new Map(page.map((s, i) => [s.key, answers[i]]));
}

/** The interval a series is expected to keep, in ms, or undefined when it has too few readings to say. */
function expectedMs(s: Entry): number | undefined {
  if (s.interval_s) return s.interval_s * 1000;
  if (s.count < 2 || !s.firstTime || !s.lastTime) return undefined;
  return (Date.parse(s.lastTime) - Date.parse(s.firstTime)) / (s.count - 1);
}

/** The part of the period a series could have readings in: from its first reading, up to now. */
function span(ctx: ViewContext, s: Entry): Gap | undefined {
  if (!s.firstTime) return undefined;
  const start = Math.max(ctx.period.start.toMillis(), Date.parse(s.firstTime));
  const end = Math.min(ctx.period.end.toMillis(), Date.now());
  return end > start ? { start, end } : undefined;
}

/** The smallest window not shorter than the interval that keeps the period within MAX_BUCKETS. */
function windowFor(expected: number, length: number): [string, number] {
  return WINDOWS.find(([, ms]) => ms >= expected && length / ms <= MAX_BUCKETS) ?? WINDOWS[WINDOWS.length - 1];
}

/**
 * Gaps of each series of the page: `agg=count` buckets sized to its interval (empty buckets are left
 * out of the answer), one query per window size and at most POINTS_PER_QUERY points each.
 */
async function gapsOf(ctx: ViewContext, page: Entry[]): Promise<Map<string, Gap[]> | Error> {
  const groups = new Map<string, { ms: number; length: number; series: Entry[] }>();
  for (const s of page) {
    const expected = expectedMs(s);
    const range = span(ctx, s);
    if (expected === undefined || !range) continue;
    const [window, ms] = windowFor(expected, range.end - range.start);
    const group = groups.get(window) ?? { ms, length: 0, series: [] };
    group.length = Math.max(group.length, range.end - range.start);
    group.series.push(s);
    groups.set(window, group);
  }
  const found = new Map<string, Gap[]>();
  try {
    const queries = [...groups].flatMap(([window, group]) => {
      const perQuery = Math.max(1, Math.floor(POINTS_PER_QUERY / (group.length / group.ms + 2)));
      const batches: Entry[][] = [];
      for (let i = 0; i < group.series.length; i += perQuery) batches.push(group.series.slice(i, i + perQuery));
      return batches.map(async (batch) => {
        const body = await get('/api/v1/query', {
          series: batch.map((s) => s.key).join(','),
          start: ctx.period.start.toISO() ?? undefined,
          // the query's end is inclusive
          end: ctx.period.end.minus(1).toISO() ?? undefined,
          window,
          agg: 'count',
          tz: ctx.config.timezone,
        });
        for (const result of body.results) {
          const s = batch.find((b) => b.key === result.series);
          const range = s && span(ctx, s);
          const expected = s && expectedMs(s);
          if (!range || expected === undefined) continue;
          const buckets = result.points.map((p: Json) => Date.parse(p.time));
          found.set(result.series, gapsIn(buckets, group.ms, range, GAP_FACTOR * expected));
        }
      });
    });
    await Promise.all(queries);
  } catch (err) {
    return err as Error;
  }
  return found;
}

/**
 * Runs without readings in `range` between the non-empty buckets (their starts, sorted): before the
 * first, between two, after the last; those at least `least` ms long are gaps.
 */
export function gapsIn(buckets: number[], bucketMs: number, range: Gap, least: number): Gap[] {
  const gaps: Gap[] = [];
  let from = range.start;
  for (const start of [...buckets, range.end]) {
    const to = Math.min(start, range.end);
    if (to - from >= Math.max(least, 1)) gaps.push({ start: from, end: to });
    from = Math.max(from, start + bucketMs);
  }
  return gaps;
}

function seriesRow(
  ctx: ViewContext,
  s: Entry,
  sensor: string | undefined,
  latest: Json | Error | undefined,
  gaps: Map<string, Gap[]> | Error,
): HTMLElement {
  const zone = ctx.config.timezone;
  const name = h('td', { 'data-label': 'Series' }, h('code', {}, s.key));
  if (sensor) name.append(h('br'), h('small', { class: 'muted' }, `sensor ${sensor}`));
  const row = h('tr', { 'data-series': s.key }, name);
  if (latest instanceof Error)
    row.append(h('td', { colspan: '3', 'data-label': 'Last reading' }, problem(latest.message)));
  else if (!latest) row.append(h('td', { colspan: '3', 'data-label': 'Last reading' }, 'no readings yet'));
  else {
    const at = DateTime.fromISO(latest.time).setZone(zone);
    row.append(
      h('td', { 'data-label': 'Last reading', 'data-testid': 'last-time' }, at.toFormat('d LLL yyyy HH:mm:ss')),
      h('td', { 'data-label': 'Age' }, age(Date.now() - at.toMillis())),
      h('td', { 'data-label': 'Value', 'data-testid': 'last-value' }, `${latest.value}${s.unit ? ` ${s.unit}` : ''}`),
    );
  }
  row.append(h('td', { 'data-label': 'Gaps' }, gapList(ctx, s, gaps)));
  return row;
}

function gapList(ctx: ViewContext, s: Entry, gaps: Map<string, Gap[]> | Error): Node {
  if (gaps instanceof Error) return document.createTextNode('—');
  const mine = gaps.get(s.key);
  if (!mine) {
    const why = span(ctx, s) ? 'too few readings to tell' : 'none in the period';
    return h('span', { class: 'muted' }, why);
  }
  if (mine.length === 0) return h('span', { class: 'ok' }, 'none');
  const list = h('ul', { class: 'gaps', 'data-testid': 'gaps' });
  for (const gap of mine.slice(0, GAPS_SHOWN))
    list.append(
      h(
        'li',
        { 'data-start': new Date(gap.start).toISOString(), 'data-end': new Date(gap.end).toISOString() },
        `${when(ctx, gap.start)} – ${when(ctx, gap.end)} (${age(gap.end - gap.start)})`,
      ),
    );
  if (mine.length > GAPS_SHOWN) list.append(h('li', { class: 'muted' }, `and ${mine.length - GAPS_SHOWN} more`));
  return list;
}

/** A gap's edge: the time alone within the period's day, else the date too. */
function when(ctx: ViewContext, ms: number): string {
  const at = DateTime.fromMillis(ms, { zone: ctx.config.timezone });
  return ctx.period.unit === 'day' ? at.toFormat('HH:mm') : at.toFormat('d LLL HH:mm');
}

/** `42 s`, `5 min`, `3 h 10 min`, `2 d 4 h`. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return min % 60 ? `${hours} h ${min % 60} min` : `${hours} h`;
  return hours % 24 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${Math.floor(hours / 24)} d`;
}

/** Links to the first and the next page of series. */
function pager(ctx: ViewContext, next: string | null): HTMLElement {
  const nav = h('p', { class: 'health-pager' });
  if (ctx.params.get('cursor'))
    nav.append(h('a', { href: ctx.href({ cursor: undefined }), 'data-nav': '' }, 'First page'), ' ');
  if (next)
    nav.append(
      h('a', { href: ctx.href({ cursor: next }), 'data-nav': '', 'data-testid': 'next-page' }, `Next ${PAGE} series`),
    );
  return nav;
}

/** The pull sources: on or off, last success, last error, next run (`GET /api/v1/sources`). */
async function sourcesPanel(ctx: ViewContext, panel: HTMLElement) {
  panel.append(h('h2', {}, 'Pull sources'));
  if (!ctx.config.modules.includes('sources')) {
    panel.append(h('p', { class: 'note' }, 'The sources module is off.'));
    return;
  }
  let sources: Json[];
  try {
    sources = (await get('/api/v1/sources')).sources;
  } catch (err) {
    panel.append(problem((err as Error).message));
    return;
  }
  const zone = ctx.config.timezone;
  const time = (iso: string | null) => (iso ? DateTime.fromISO(iso).setZone(zone).toFormat('d LLL yyyy HH:mm') : '—');
  const rows = sources.map((s) =>
    h(
      'tr',
      { 'data-source': s.name, 'data-testid': 'source-row' },
      h('td', { 'data-label': 'Source' }, h('code', {}, s.name)),
      h(
        'td',
        { 'data-label': 'State' },
        h('span', { class: `badge ${s.state === 'on' ? 'online' : ''}` }, s.state),
        s.reason ? h('small', { class: 'muted' }, ` ${s.reason}`) : null,
      ),
      h('td', { 'data-label': 'Last success' }, time(s.last_success)),
      h(
        'td',
        { 'data-label': 'Last error', 'data-testid': 'last-error' },
        s.last_error ? h('span', { class: 'error' }, `${time(s.last_error.time)}: ${s.last_error.message}`) : '—',
      ),
      h('td', { 'data-label': 'Next run' }, time(s.next_run)),
    ),
  );
  panel.append(table(['Source', 'State', 'Last success', 'Last error', 'Next run'], rows, 'sources'));
}

/** A table whose cells say their column (`data-label`) so that a phone shows each row as a block. */
function table(columns: string[], rows: HTMLElement[], testId: string): HTMLElement {
  const head = h('tr');
  for (const c of columns) head.append(h('th', { scope: 'col' }, c));
  const body = h('tbody');
  body.append(...rows);
  return h('table', { class: 'health', 'data-testid': testId }, h('thead', {}, head), body);
}
