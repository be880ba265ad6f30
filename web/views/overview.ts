import { DateTime } from 'luxon';
import { get, type Json } from '../api.js';
import { type BarSeries, barChart } from '../chart.js';
import { formatKwh, h, problem } from '../dom.js';
import { liveReadings } from '../live.js';
import { enclosing, type Period, specOf } from '../period.js';
import type { View, ViewContext } from '../view.js';

export interface Series {
  key: string;
  unit: string | null;
  kind: 'gauge' | 'counter' | 'interval';
  description?: string | null;
  firstTime: string | null;
  lastTime: string | null;
}

/** What the overview shows: the meter, and the series that price it, weigh its carbon and say what it exported. */
interface Choice {
  meter: Series;
  /** Energy returned to the grid: `?export=`, else a series named or described as export. */
  exported?: Series;
  /** Price per kWh (p/kWh): `?tariff=`, else the first such series. */
  tariff?: Series;
  /** Standing charge per day (p/day): `?standing=`, else the one matching the tariff's VAT, else the first. */
  standing?: Series;
  /** gCO2/kWh: `?intensity=`, else the first such series (`grid/carbon-intensity/actual` before `forecast`). */
  intensity?: Series;
  /** What the bars and the totals put first: energy, or cost (`?show=cost`). */
  show: 'energy' | 'cost';
}

const POWER_W: Record<string, number> = { W: 1, kW: 1e3, MW: 1e6 };
const isPower = (s: { unit: string | null }) => Object.hasOwn(POWER_W, s.unit ?? '');
/** The energy API answers at most this many buckets per series: the page never asks for more. */
export const MAX_POINTS = 2000;
const WINDOW_MINUTES: Record<string, number> = { '30m': 30, '1h': 60, '1d': 1440, month: 28 * 1440 };

/**
 * A series whose energy the API can work out: a meter (counter, interval) or a power gauge. Room
 * metrics (`rooms/<room>/power_w`, sums of sensors the buildings module writes) are not meters:
 * offered as one, a room's sum became the default "whole building".
 */
export const isMeter = (s: Pick<Series, 'unit' | 'kind'> & { key?: string }) =>
  !s.key?.startsWith('rooms/') && (s.kind === 'counter' || s.kind === 'interval' || isPower(s));
/** Energy sent to the grid (Home Assistant's "return to grid"): its key or description says export. */
const isExport = (s: Series) => /export/i.test(`${s.key} ${s.description ?? ''}`);

/**
 * Overview: energy, cost and carbon for the day, week, month and year of the period; the power now,
 * live; and the period's energy (or cost) as bars, export below the axis, the previous period beside.
 */
export const overview: View = {
  id: 'overview',
  title: 'Overview',
  async render(ctx) {
    const catalog: Series[] = (await get('/api/v1/series', { limit: '1000' })).series;
    const choice = choose(ctx.params, catalog);
    if (!choice) {
      ctx.root.append(emptyState(ctx, catalog));
      return;
    }
    ctx.root.append(controls(ctx, choice, catalog));
    const strip = h('section', { class: 'totals', 'aria-label': 'Totals' });
    const how = h('div', {});
    const now = h('section', { class: 'panel', 'aria-label': 'Power now' });
    const bars = h('section', { class: 'panel', 'aria-label': 'Energy in the period' });
    ctx.root.append(strip, how, now, bars);
    if (!choice.tariff || !choice.intensity) how.append(missingPrices(ctx, choice));
    // each panel shows its own answer or error: one failing request does not blank the page
    await Promise.all([totals(ctx, choice, strip), powerNow(ctx, choice, now), periodBars(ctx, choice, bars)]);
  },
};

/** The series the URL names, or the first suitable ones; undefined when there is no meter at all. */
function choose(params: URLSearchParams, catalog: Series[]): Choice | undefined {
  const named = (name: string, suits: (s: Series) => boolean, prefer?: (s: Series) => boolean) => {
    const key = params.get(name);
    if (key) return catalog.find((s) => s.key === key) ?? ({ key, unit: null, kind: 'gauge' } as Series);
    const suitable = catalog.filter(suits);
    return suitable.find((s) => prefer?.(s)) ?? suitable[0];
  };
  const meter = named('meter', (s) => isMeter(s) && !isExport(s)) ?? catalog.find(isMeter);
  if (!meter) return undefined;
  const exported = named('export', (s) => isMeter(s) && isExport(s) && s.key !== meter.key);
  // the daily report prices with VAT: so does the overview unless told otherwise
  const tariff = named(
    'tariff',
    (s) => s.unit === 'p/kWh',
    (s) => /inc-vat/.test(s.key),
  );
  const vat = tariff?.key.match(/(inc|exc)-vat/)?.[0];
  const standing = named(
    'standing',
    (s) => s.unit === 'p/day',
    (s) => vat !== undefined && s.key.includes(vat),
  );
  const intensity = named('intensity', (s) => s.unit === 'gCO2/kWh');
  const show = params.get('show') === 'cost' ? 'cost' : 'energy';
  return { meter, exported: exported?.key === meter.key ? undefined : exported, tariff, standing, intensity, show };
}

const range = (period: Period, zone: string, window?: string) => ({
  start: period.start.toISO() ?? undefined,
  end: period.end.toISO() ?? undefined,
  tz: zone,
  window,
});

async function energy(meter: string, period: Period, zone: string, window?: string): Promise<Json> {
  return (await get('/api/v1/energy', { series: meter, ...range(period, zone, window) })).results[0];
}

async function cost(choice: Choice, period: Period, zone: string, window?: string): Promise<Json> {
  return get('/api/v1/energy/cost', {
    energy: choice.meter.key,
    tariff: choice.tariff?.key,
    standing: choice.standing?.key,
    ...range(period, zone, window),
  });
}

async function carbon(choice: Choice, period: Period, zone: string): Promise<Json> {
  return get('/api/v1/energy/carbon', {
    energy: choice.meter.key,
    intensity: choice.intensity?.key,
    ...range(period, zone),
  });
}

const money = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const whole = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });

/** A cost in pence (the tariff is p/kWh) as pounds. */
export function formatPence(pence: number | null | undefined): string {
  return pence == null ? '—' : `£${money.format(pence / 100)}`;
}

/** Grams of CO2: whole grams under a kilogram, kilograms with 2 decimals from there. */
export function formatCarbon(grams: number | null | undefined): string {
  if (grams == null) return '—';
  return Math.abs(grams) < 1000 ? `${whole.format(grams)} g CO2` : `${money.format(grams / 1000)} kg CO2`;
}

/** The day, week, month and year around the period (its start; a rolling range's end). */
async function totals(ctx: ViewContext, choice: Choice, strip: HTMLElement) {
  const at = ctx.period.unit ? ctx.period.start : ctx.period.end.minus(1);
  const names = ['day', 'week', 'month', 'year'];
  await Promise.all(enclosing(at).map((period, i) => totalCard(ctx, choice, period, names[i], strip)));
}

/** One card: energy, cost without and with the standing charge, carbon; each line shows its own error. */
async function totalCard(ctx: ViewContext, choice: Choice, period: Period, name: string, strip: HTMLElement) {
  const card = h('a', {
    class: `total show-${choice.show}`,
    href: ctx.href({ period: period.spec }),
    'data-nav': '',
  });
  card.append(h('span', { class: 'label' }, period.label));
  const energyLine = h('span', { class: 'energy' });
  const costLine = h('span', { class: 'cost' });
  const carbonLine = h('span', { class: 'carbon' });
  card.append(...(choice.show === 'cost' ? [costLine, energyLine] : [energyLine, costLine]), carbonLine);
  strip.append(card);
  const zone = ctx.config.timezone;
  const failed = (line: HTMLElement) => (err: Error) => line.replaceChildren(problem(err.message));
  await Promise.all([
    energy(choice.meter.key, period, zone).then(
      (result) => energyLine.append(h('strong', { 'data-testid': `total-${name}` }, formatKwh(result.total))),
      failed(energyLine),
    ),
    choice.tariff
      ? cost(choice, period, zone).then(
          ({ totals: t }: Json) =>
            costLine.append(
              h('strong', { 'data-testid': `cost-${name}` }, formatPence(t.cost)),
              ' ',
              h(
                'small',
                { class: 'minor standing', 'data-testid': `cost-standing-${name}` },
                choice.standing ? `${formatPence(t.total)} with standing charge` : 'no standing charge series',
              ),
            ),
          failed(costLine),
        )
      : costLine.append(h('small', { class: 'minor', 'data-testid': `cost-${name}` }, 'cost unknown: no tariff')),
    choice.intensity
      ? carbon(choice, period, zone).then(
          ({ totals: t }: Json) =>
            carbonLine.append(
              h('small', { class: 'minor', 'data-testid': `carbon-${name}` }, formatCarbon(t.carbon_g)),
            ),
          failed(carbonLine),
        )
      : carbonLine.append(
          h('small', { class: 'minor', 'data-testid': `carbon-${name}` }, 'carbon unknown: no intensity'),
        ),
  ]);
}

/** Cost or carbon cannot be worked out: which series they need and how to get them. */
function missingPrices(ctx: ViewContext, choice: Choice): HTMLElement {
  const origin = location.origin;
  const box = h('section', { class: 'panel empty how', 'data-testid': 'missing-prices' });
  if (!choice.tariff)
    box.append(
      h(
        'p',
        {},
        'Cost needs a price series in p/kWh: the octopus-tariff source writes tariff/unit-rate/inc-vat (set WATTLINE_OCTOPUS_PRODUCT and WATTLINE_OCTOPUS_TARIFF), or send your own prices to a series described so (and ?tariff=<series> picks it):',
      ),
      h(
        'pre',
        {},
        `curl -u <your key>: -X PUT -H 'Content-Type: application/json' -d '{"unit":"p/kWh"}' ${origin}/api/v1/series/tariff/unit-rate/inc-vat`,
      ),
    );
  if (!choice.intensity)
    box.append(
      h(
        'p',
        {},
        'Carbon needs an intensity series in gCO2/kWh: the carbon-intensity source writes grid/carbon-intensity/actual while WATTLINE_CARBON_URL is set (its default), or describe your own (?intensity=<series> picks it):',
      ),
      h(
        'pre',
        {},
        `curl -u <your key>: -X PUT -H 'Content-Type: application/json' -d '{"unit":"gCO2/kWh"}' ${origin}/api/v1/series/grid/carbon-intensity/actual`,
      ),
    );
  if (ctx.params.get('show') === 'cost' && !choice.tariff) box.prepend(h('p', {}, h('strong', {}, 'No cost to show.')));
  return box;
}

/** A power gauge as the live panel follows it: its latest value in W and when. */
interface Gauge {
  key: string;
  /** Watts per unit of its readings. */
  scale: number;
  watts?: number;
  at?: number;
}

/**
 * The power now: the meter's latest reading when it is a power gauge, else the sum of the building's
 * power sensors (`GET /api/v1/sensors/get?sensor_type=power`); readings arrive over the live feed.
 */
async function powerNow(ctx: ViewContext, choice: Choice, panel: HTMLElement) {
  panel.append(h('h2', {}, 'Power now'));
  let gauges: Gauge[];
  let what: string;
  try {
    if (isPower(choice.meter)) {
      gauges = [{ key: choice.meter.key, scale: POWER_W[choice.meter.unit ?? ''] }];
      what = choice.meter.key;
      await latest(gauges[0]);
    } else if (ctx.config.modules.includes('buildings')) {
      const sensors: Json[] = (await get('/api/v1/sensors/get', { sensor_type: 'power', limit: '10000' })).sensors;
      gauges = sensors
        .filter((s) => isPower(s))
        .map((s) => ({
          key: s.series,
          scale: POWER_W[s.unit],
          watts: s.last_value == null ? undefined : s.last_value * POWER_W[s.unit],
          at: s.last_seen ? Date.parse(s.last_seen) : undefined,
        }));
      what = `${gauges.length} power sensor${gauges.length === 1 ? '' : 's'} of the building`;
    } else {
      gauges = [];
      what = '';
    }
  } catch (err) {
    panel.append(problem((err as Error).message));
    return;
  }
  if (gauges.length === 0) {
    panel.append(
      h(
        'p',
        { class: 'empty', 'data-testid': 'no-power' },
        `${choice.meter.key} is not a power gauge and no power sensor is registered: pick a meter in W, kW or MW above, or add a sensor of type power (POST /api/v1/sensors).`,
      ),
    );
    return;
  }
  const value = h('strong', { class: 'now', 'data-testid': 'power-now', 'aria-live': 'polite' });
  const when = h('span', { class: 'note' });
  panel.append(h('p', {}, value, ' ', when), h('p', { class: 'note' }, `${what}; live over the WebSocket.`));
  const show = () => {
    const known = gauges.filter((g) => g.watts !== undefined);
    value.textContent = known.length ? formatWatts(known.reduce((sum, g) => sum + (g.watts ?? 0), 0)) : '—';
    const at = Math.max(...known.map((g) => g.at ?? 0));
    when.textContent = at
      ? `at ${DateTime.fromMillis(at, { zone: ctx.config.timezone }).toFormat('d LLL yyyy HH:mm:ss')}`
      : 'no reading yet';
  };
  show();
  liveReadings(
    ctx.signal,
    gauges.map((g) => g.key),
    (reading) => {
      const gauge = gauges.find((g) => g.key === reading.series);
      // an older reading (a backfill) is not the power now
      if (!gauge || reading.time < (gauge.at ?? 0)) return;
      gauge.watts = reading.value * gauge.scale;
      gauge.at = reading.time;
      show();
    },
  );
}

/** The gauge's latest reading (`GET /api/v1/series/{key}/latest`); none yet is not an error. */
async function latest(gauge: Gauge) {
  try {
    const body = await get(`/api/v1/series/${gauge.key}/latest`);
    gauge.watts = body.value * gauge.scale;
    gauge.at = Date.parse(body.time);
  } catch (err) {
    if ((err as { status?: number }).status !== 404) throw err;
  }
}

const watts = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const kilowatts = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const formatWatts = (w: number) => (Math.abs(w) < 10_000 ? `${watts.format(w)} W` : `${kilowatts.format(w / 1000)} kW`);

/** One series of the bars as read: bucket starts (epoch s) and values. */
interface Read {
  times: number[];
  values: (number | null)[];
  total: number | null;
}

/** The meter's energy (or cost, with the standing charge) per bucket of a period. */
async function readBars(ctx: ViewContext, choice: Choice, key: string, period: Period): Promise<Read> {
  const zone = ctx.config.timezone;
  const times = (rows: Json[]) => rows.map((r) => DateTime.fromISO(r.time).toSeconds());
  if (choice.show === 'cost') {
    const body = await cost({ ...choice, meter: { key } as Series }, period, zone, period.window);
    const values = body.buckets.map((b: Json) => (b.energy_kwh === null ? null : b.total / 100));
    return { times: times(body.buckets), values, total: body.totals.total };
  }
  const result = await energy(key, period, zone, period.window);
  return { times: times(result.points), values: result.points.map((p: Json) => p.value), total: result.total };
}

/** Buckets a period splits into: checked before asking, so no series sent to the page passes MAX_POINTS. */
function bucketCount(period: Period): number {
  return Math.ceil(period.end.diff(period.start, 'minutes').minutes / WINDOW_MINUTES[period.window]);
}

async function periodBars(ctx: ViewContext, choice: Choice, panel: HTMLElement) {
  const { period, previous } = ctx;
  const costs = choice.show === 'cost';
  const heading = h('h2', {}, `${costs ? 'Cost' : 'Energy'}, ${period.label}`);
  panel.append(heading);
  if (costs && !choice.tariff) {
    panel.append(
      h('p', { class: 'empty', 'data-testid': 'no-cost' }, 'No tariff series: see above for how to add one.'),
    );
    return;
  }
  if (bucketCount(period) > MAX_POINTS) {
    panel.append(problem(`More than ${MAX_POINTS} ${period.window} buckets: choose a shorter period.`));
    return;
  }
  let current: Read;
  let exported: Read | undefined;
  let before: Read | undefined;
  try {
    [current, exported, before] = await Promise.all([
      readBars(ctx, choice, choice.meter.key, period),
      // export earns at another (export) tariff: it is drawn in kWh only
      choice.exported && !costs ? readBars(ctx, choice, choice.exported.key, period) : undefined,
      previous ? readBars(ctx, choice, choice.meter.key, { ...previous, window: period.window }) : undefined,
    ]);
  } catch (err) {
    panel.append(problem((err as Error).message));
    return;
  }
  const format = costs ? formatPence : formatKwh;
  heading.append(' ', h('strong', { 'data-testid': 'period-total' }, format(current.total)));
  if (before) heading.append(comparison(before, current.total, format));
  const measured = current.values.filter((v) => v !== null).length;
  panel.append(
    h(
      'p',
      { class: 'note' },
      `${choice.meter.key}: ${bucketWords(period.window)}${costs ? `, priced by ${choice.tariff?.key}${choice.standing ? ` with ${choice.standing.key}` : ''}` : ''}`,
    ),
  );
  if (measured === 0) {
    panel.append(noReadings(ctx, choice.meter));
    return;
  }
  const series: (BarSeries & { id: string; read: Read })[] = [
    {
      id: 'import',
      label: costs ? (choice.standing ? 'Cost with standing charge' : 'Cost') : 'Import',
      colour: '--accent',
      values: current.values,
      read: current,
    },
  ];
  if (exported) {
    // return to grid is drawn below the axis, bucket by bucket with import
    const values = alignTo(current.times, exported).map((v) => (v === null ? null : -v));
    series.push({ id: 'export', label: `Export (${choice.exported?.key})`, colour: '#d9480f', values, read: exported });
  }
  if (before && previous) {
    // the previous period's n-th bucket beside this one's n-th: a month of 31 days against one of 30
    const values = current.times.map((_t, i) => before.values[i] ?? null);
    series.push({ id: 'previous', label: previous.label, colour: '--fg', outline: true, values, read: before });
  }
  const chart = h('div', {
    class: 'chart',
    'data-testid': 'energy-bars',
    'data-buckets': String(measured),
    'data-show': choice.show,
    // the lowest bar drawn: below zero when export is shown under the axis
    'data-lowest': String(Math.min(0, ...series.flatMap((s) => s.values.filter((v) => v !== null)))),
  });
  const legend = h('ul', { class: 'legend' });
  for (const s of series)
    legend.append(
      h(
        'li',
        { 'data-series': s.id, 'data-points': String(s.read.times.length) },
        h('span', { class: `swatch${s.outline ? ' outline' : ''}`, style: `--swatch: ${swatch(s.colour)}` }),
        `${s.label}: `,
        h(
          'strong',
          { 'data-testid': `legend-${s.id}` },
          s.read.values.some((v) => v !== null) ? format(s.read.total) : 'no readings',
        ),
      ),
    );
  panel.append(chart, legend);
  barChart(chart, {
    times: current.times,
    series,
    from: period.start.toSeconds(),
    to: period.end.toSeconds(),
    zone: ctx.config.timezone,
    label: costs ? '£' : 'kWh',
  });
}

const swatch = (colour: string) => (colour.startsWith('--') ? `var(${colour})` : colour);

/** Values of `read` at `times` (same window and period: the same bucket starts). */
function alignTo(times: number[], read: Read): (number | null)[] {
  const at = new Map(read.times.map((t, i) => [t, read.values[i]]));
  return times.map((t) => at.get(t) ?? null);
}

/** The previous period's total and the change from it; a previous period without readings says so. */
function comparison(read: Read, now: number | null, format: (v: number | null) => string): HTMLElement {
  const before = read.values.some((v) => v !== null) ? read.total : null;
  const change =
    before === null || now === null || before === 0
      ? ''
      : ` (${now >= before ? '+' : '−'}${whole.format(Math.abs(((now - before) / before) * 100))} %)`;
  return h(
    'small',
    { class: 'previous' },
    'previous period ',
    h('span', { 'data-testid': 'previous-total' }, before === null ? 'no readings' : format(before)),
    h('span', { 'data-testid': 'change' }, change),
  );
}

function bucketWords(window: string): string {
  return { '30m': 'per half-hour', '1h': 'per hour', '1d': 'per day', month: 'per month' }[window] ?? window;
}

/** The meter has no readings in the period: say so, and link to the last day it has. */
function noReadings(ctx: ViewContext, meter: Series): HTMLElement {
  const box = h('div', { class: 'empty', 'data-testid': 'no-readings' });
  box.append(h('p', {}, `No readings of ${meter.key} in this period.`));
  if (meter.lastTime) {
    const last = DateTime.fromISO(meter.lastTime).setZone(ctx.config.timezone);
    box.append(
      h(
        'p',
        {},
        'Its last reading is from ',
        h('a', { href: ctx.href({ period: specOf('day', last) }), 'data-nav': '' }, last.toFormat('d LLL yyyy HH:mm')),
        '.',
      ),
    );
  }
  return box;
}

/** The meter, tariff and intensity pickers (`?meter=`, `?tariff=`, `?intensity=`) and the kWh ↔ cost switch. */
function controls(ctx: ViewContext, choice: Choice, catalog: Series[]): HTMLElement {
  const bar = h('div', { class: 'controls' });
  bar.append(picker(ctx, 'meter', 'Meter', choice.meter, catalog.filter(isMeter)));
  if (choice.tariff)
    bar.append(
      picker(
        ctx,
        'tariff',
        'Tariff',
        choice.tariff,
        catalog.filter((s) => s.unit === 'p/kWh'),
      ),
    );
  if (choice.intensity)
    bar.append(
      picker(
        ctx,
        'intensity',
        'Intensity',
        choice.intensity,
        catalog.filter((s) => s.unit === 'gCO2/kWh'),
      ),
    );
  const cost = choice.show === 'cost';
  bar.append(
    h(
      'a',
      {
        href: ctx.href({ show: cost ? undefined : 'cost' }),
        'data-nav': '',
        role: 'switch',
        'aria-checked': String(cost),
        'data-testid': 'show-cost',
        class: 'switch',
      },
      cost ? 'Showing cost (£): show kWh' : 'Showing kWh: show cost (£)',
    ),
  );
  return bar;
}

/** Which series is the meter; `?meter=` in the URL (the Rooms view's device bars use it too). */
export const meterPicker = (ctx: ViewContext, meter: Series, meters: Series[]) =>
  picker(ctx, 'meter', 'Meter', meter, meters);

/** A select of series written to `?<name>=` in the URL. */
function picker(ctx: ViewContext, name: string, label: string, chosen: Series, options: Series[]): HTMLElement {
  const select = h('select', { id: name, name });
  const keys = options.some((s) => s.key === chosen.key) ? options : [chosen, ...options];
  for (const s of keys)
    select.append(h('option', { value: s.key, selected: s.key === chosen.key ? '' : undefined }, s.key));
  select.addEventListener('change', () => {
    history.pushState(null, '', ctx.href({ [name]: select.value }));
    dispatchEvent(new PopStateEvent('popstate'));
  });
  return h('p', { class: 'meter' }, h('label', { for: name }, `${label} `), select);
}

/** No series the energy functions can add up: what to do next, as the start banner says it. */
export function emptyState(ctx: ViewContext, catalog: Series[]): HTMLElement {
  const origin = location.origin;
  const box = h('section', { class: 'empty panel', 'data-testid': 'empty-state' });
  if (catalog.length === 0) {
    box.append(
      h('h2', {}, 'No data yet'),
      h('p', {}, 'Send the sample readings (with a write key), then reload this page:'),
      h(
        'pre',
        {},
        `curl -u <your key>: -H 'Content-Type: application/x-ndjson' --data-binary '@${ctx.config.sampleFile}' ${origin}/ingest`,
      ),
    );
  } else {
    const first = catalog[0].key;
    box.append(
      h('h2', {}, 'No meter yet'),
      h(
        'p',
        {},
        `${catalog.length} series, none a power gauge (W, kW, MW) or an energy meter (counter, interval). Describe one, then reload this page:`,
      ),
      h(
        'pre',
        {},
        `curl -u <your key>: -X PUT -H 'Content-Type: application/json' -d '{"unit":"W"}' ${origin}/api/v1/series/${first}`,
      ),
    );
  }
  return box;
}
