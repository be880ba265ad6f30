import { DateTime } from 'luxon';
import uPlot from 'uplot';
import { get, type Json } from '../api.js';
import { h, problem } from '../dom.js';
import { liveReadings } from '../live.js';
import type { Period } from '../period.js';
import type { View, ViewContext } from '../view.js';

interface Series {
  key: string;
  unit: string | null;
}

/** One series as drawn: bucket times (epoch seconds), averages, and the min/max band at coarse windows. */
interface Line {
  key: string;
  unit: string | null;
  times: number[];
  avg: (number | null)[];
  band?: { min: (number | null)[]; max: (number | null)[] };
}

const POWER_UNITS = new Set(['W', 'kW', 'MW']);
/** The query API's windows, smallest first, in minutes. */
const WINDOWS: [string, number][] = [
  ['1m', 1],
  ['5m', 5],
  ['15m', 15],
  ['30m', 30],
  ['1h', 60],
  ['1d', 1440],
];
const MAX_POINTS = 2000;
/** Points of all lines together: 50 lines of a day get 5-minute averages, not 72,000 points to read and draw. */
const MAX_TOTAL_POINTS = 20_000;
/** Lines that still get their min/max band: as many as there are distinct colours. */
const MAX_BANDED_LINES = 6;
const COLOURS = ['--accent', '#d9480f', '#2b8a3e', '#862e9c', '#1864ab', '#c2255c'];

/** The smallest window that keeps each of `lines` series at or under ~2,000 points, and all under ~20,000. */
export function windowFor(period: Period, lines = 1): { name: string; minutes: number } {
  const minutes = period.end.diff(period.start, 'minutes').minutes;
  const most = Math.min(MAX_POINTS, MAX_TOTAL_POINTS / lines);
  const fit = WINDOWS.find(([, size]) => minutes / size <= most) ?? WINDOWS[WINDOWS.length - 1];
  return { name: fit[0], minutes: fit[1] };
}

/** Power: any series (`?series=a,b`, power gauges by default) as lines over the period, live when it includes now. */
export const power: View = {
  id: 'power',
  title: 'Power',
  async render(ctx) {
    const catalog: Series[] = (await get('/api/v1/series', { limit: '1000' })).series;
    const asked = (ctx.params.get('series') ?? '').split(',').filter(Boolean);
    const keys = asked.length ? asked : catalog.filter((s) => POWER_UNITS.has(s.unit ?? '')).map((s) => s.key);
    ctx.root.append(seriesPicker(ctx, catalog, keys));
    const panel = h('section', { class: 'panel', 'aria-label': 'Power over the period' });
    ctx.root.append(panel);
    if (keys.length === 0) {
      panel.append(h('p', { class: 'empty', 'data-testid': 'no-series' }, 'Choose series above to draw them.'));
      return;
    }
    const window = windowFor(ctx.period, keys.length);
    // coarse buckets hide peaks: their min and max are drawn as a band around the average, for a
    // few lines only (many shaded bands hide each other, and each costs the store two more reads)
    const band = window.minutes >= 15 && keys.length <= MAX_BANDED_LINES;
    let lines: Line[];
    try {
      lines = await readLines(ctx, keys, window, band);
    } catch (err) {
      panel.append(problem((err as Error).message));
      return;
    }
    panel.append(
      h('h2', {}, `Power, ${ctx.period.label}`),
      h(
        'p',
        { class: 'note' },
        `averages per ${window.name === '1d' ? 'day' : window.name}${band ? ', shaded between each bucket’s minimum and maximum' : ''}; drag to zoom, double-click to reset`,
      ),
    );
    const legend = h('ul', { class: 'legend' });
    const chart = h('div', {
      class: 'chart',
      'data-testid': 'power-chart',
      'data-window': window.name,
      'data-start': ctx.period.start.toISO() ?? '',
      'data-end': ctx.period.end.minus(1).toISO() ?? '',
      'data-band': band ? 'min-max' : undefined,
    });
    panel.append(chart, legend);
    const plot = drawLines(chart, lines, ctx);
    const items = lines.map((line) => legendItem(line));
    legend.append(...items.map((i) => i.element));
    const now = Date.now();
    // a rolling period ("last 24 h") ends when the page drew it: it slides on as readings arrive
    const rolling = !ctx.period.unit && Math.abs(ctx.period.end.toMillis() - now) < 60_000;
    if (rolling || (ctx.period.start.toMillis() <= now && now < ctx.period.end.toMillis())) {
      const length = ctx.period.end.toSeconds() - ctx.period.start.toSeconds();
      live(ctx, lines, rolling, (i, time) => {
        plot.setData(aligned(lines));
        if (rolling && time > plot.scales.x.max!) plot.setScale('x', { min: time - length, max: time });
        items[i].update();
      });
      panel.append(h('p', { class: 'note', 'data-testid': 'live' }, 'Live: new readings are added as they arrive.'));
    }
  },
};

async function readLines(ctx: ViewContext, keys: string[], window: { name: string; minutes: number }, band: boolean) {
  const read = (agg: string) =>
    get('/api/v1/query', {
      series: keys.join(','),
      start: ctx.period.start.toISO() ?? undefined,
      end: ctx.period.end.minus(1).toISO() ?? undefined,
      window: window.name,
      agg,
      // local days for 1d; finer buckets are the same instants in any zone, and without tz the server
      // spells their times in UTC, which is cheaper than in a zone for tens of thousands of points
      tz: window.name === '1d' ? ctx.config.timezone : undefined,
    }).then((body: Json) => body.results as { series: string; unit: string | null; points: Json[] }[]);
  const [avg, min, max] = await Promise.all([
    read('avg'),
    band ? read('min') : undefined,
    band ? read('max') : undefined,
  ]);
  return avg.map((result, i): Line => {
    // Date.parse, not luxon: tens of thousands of times are read here
    const times = result.points.map((p) => Date.parse(p.time) / 1000);
    const line: Line = { key: result.series, unit: result.unit, times, avg: result.points.map((p) => p.value) };
    if (min && max) {
      // min and max have the same buckets as avg (same series, same window): matched by time
      const at = (points: Json[]) => new Map(points.map((p) => [Date.parse(p.time) / 1000, p.value]));
      const lows = at(min[i].points);
      const highs = at(max[i].points);
      line.band = { min: times.map((t) => lows.get(t) ?? null), max: times.map((t) => highs.get(t) ?? null) };
    }
    return line;
  });
}

/** All lines on one time axis (uPlot needs it), each as avg[, min, max]. */
function aligned(lines: Line[]): uPlot.AlignedData {
  const tables = lines.map(
    (l) => (l.band ? [l.times, l.avg, l.band.min, l.band.max] : [l.times, l.avg]) as uPlot.AlignedData,
  );
  return uPlot.join(tables);
}

function drawLines(element: HTMLElement, lines: Line[], ctx: ViewContext): uPlot {
  const style = getComputedStyle(document.documentElement);
  const colour = (name: string) => (name.startsWith('--') ? style.getPropertyValue(name).trim() : name);
  const axis = { stroke: colour('--fg'), grid: { stroke: colour('--grid') }, ticks: { stroke: colour('--grid') } };
  const zone = ctx.config.timezone;
  const series: uPlot.Series[] = [{}];
  const bands: uPlot.Band[] = [];
  lines.forEach((line, i) => {
    const stroke = colour(COLOURS[i % COLOURS.length]);
    series.push({ label: line.key, stroke, width: 1.5, points: { show: false }, spanGaps: false });
    if (line.band) {
      const low = series.length;
      series.push({ label: `${line.key} min`, stroke: 'transparent', points: { show: false } });
      series.push({ label: `${line.key} max`, stroke: 'transparent', points: { show: false } });
      bands.push({ series: [low + 1, low], fill: `${stroke}33` });
    }
  });
  const units = [...new Set(lines.map((l) => l.unit ?? ''))].filter(Boolean).join(', ');
  const from = ctx.period.start.toSeconds();
  const to = ctx.period.end.toSeconds();
  const size = () => ({ width: Math.max(element.clientWidth, 200), height: 320 });
  const plot = new uPlot(
    {
      ...size(),
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), zone),
      // the x axis spans the period; a drag zooms in (uPlot's select), a double-click zooms back out
      scales: { x: { time: true, auto: false, range: (_u, min, max) => (min == null ? [from, to] : [min, max]) } },
      legend: { show: false },
      bands,
      series,
      axes: [
        {
          ...axis,
          values: (_u, splits, _i, _space, step) =>
            splits.map((s) => {
              // a midnight tick names its day, so a week in hours still says which day is which
              const at = DateTime.fromSeconds(s, { zone });
              return step >= 86_400 || (at.hour === 0 && at.minute === 0) ? at.toFormat('d LLL') : at.toFormat('HH:mm');
            }),
        },
        { ...axis, label: units, size: 60 },
      ],
    },
    aligned(lines),
    element,
  );
  plot.setScale('x', { min: from, max: to });
  new ResizeObserver(() => plot.setSize(size())).observe(element);
  return plot;
}

/** A series' name, its point count (what the chart holds) and its latest value. */
function legendItem(line: Line) {
  const element = h('li', { 'data-series': line.key });
  const update = () => {
    const last = [...line.avg].reverse().find((v) => v !== null);
    element.setAttribute('data-points', String(line.times.length));
    element.replaceChildren(
      h('strong', {}, line.key),
      ` ${line.times.length} points, latest `,
      h(
        'span',
        { 'data-testid': 'latest' },
        last == null ? '—' : `${formatValue(last)}${line.unit ? ` ${line.unit}` : ''}`,
      ),
    );
  };
  update();
  return { element, update };
}

const numbers = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 2 });
const formatValue = (value: number) => numbers.format(value);

/** Readings committed after the page was drawn, over the live feed, appended to their line. */
function live(ctx: ViewContext, lines: Line[], rolling: boolean, changed: (index: number, time: number) => void) {
  liveReadings(
    ctx.signal,
    lines.map((l) => l.key),
    (reading) => {
      const i = lines.findIndex((l) => l.key === reading.series);
      const time = reading.time / 1000;
      const line = lines[i];
      if (!line || time < (line.times.at(-1) ?? 0) || (!rolling && time >= ctx.period.end.toSeconds())) return;
      line.times.push(time);
      line.avg.push(reading.value);
      line.band?.min.push(reading.value);
      line.band?.max.push(reading.value);
      changed(i, time);
    },
  );
}

/** Which series to draw; `?series=a,b` in the URL. */
function seriesPicker(ctx: ViewContext, catalog: Series[], keys: string[]): HTMLElement {
  const select = h('select', {
    id: 'series',
    name: 'series',
    multiple: '',
    size: String(Math.min(6, catalog.length + 1)),
  });
  const all = [...new Set([...keys, ...catalog.map((s) => s.key)])];
  for (const key of all) select.append(h('option', { value: key, selected: keys.includes(key) ? '' : undefined }, key));
  select.addEventListener('change', () => {
    const chosen = [...select.selectedOptions].map((o) => o.value);
    history.pushState(null, '', ctx.href({ series: chosen.length ? chosen.join(',') : undefined }));
    dispatchEvent(new PopStateEvent('popstate'));
  });
  return h('p', { class: 'meter' }, h('label', { for: 'series' }, 'Series '), select);
}
