import { DateTime } from 'luxon';
import uPlot from 'uplot';
import { get, type Json } from '../api.js';
import { formatKwh, h, problem } from '../dom.js';
import type { Period } from '../period.js';
import type { View, ViewContext } from '../view.js';
import { emptyState, isMeter, type Series } from './overview.js';
import { windowFor } from './power.js';

/**
 * The units the energy-usage connectors give their series (src/modules/sources): the Octopus tariff
 * `tariff/unit-rate/{inc,exc}-vat` in p/kWh and `tariff/standing-charge/…` in p/day, the grid's
 * `grid/carbon-intensity/{actual,forecast}` in gCO2/kWh, its generation mix `grid/generation/<fuel>` in %.
 * The view finds them by unit, so series sent by hand with these units are found the same way.
 */
const TARIFF_UNIT = 'p/kWh';
const STANDING_UNIT = 'p/day';
const INTENSITY_UNIT = 'gCO2/kWh';
const SHARE_UNIT = '%';
/**
 * The low-carbon share is the share of generation from these fuels (the Carbon Intensity API's
 * renewables plus nuclear), out of every fuel the mix carries; imports, gas, coal and other count as
 * not low-carbon. A `%` series is a fuel when its key's last segment names one.
 */
const FUELS = new Set(['biomass', 'coal', 'imports', 'gas', 'nuclear', 'other', 'hydro', 'solar', 'wind']);
const LOW_CARBON = new Set(['wind', 'solar', 'nuclear', 'hydro', 'biomass']);

/** `/api/v1/energy/cost`'s totals: one source over one period. */
interface CostTotals {
  energy_kwh: number;
  cost: number;
  standing_charge: number;
  total: number;
  effective_price_per_kwh: number | null;
  missing_slots: number;
  unpriced_kwh: number;
}

/** What the view weighs the meters by: from the URL, else the first of each unit in the catalog. */
interface Choice {
  meters: Series[];
  /** The meter of the carbon chart (`?meter=`, as on the overview). */
  meter: string;
  tariff?: string;
  tariffUnit?: string | null;
  standing?: string;
  intensity?: string;
  fuels: Series[];
}

const lastSegment = (key: string) => key.slice(key.lastIndexOf('/') + 1);

/** Cost & carbon: what each meter cost over the period, and the carbon of one meter's use against the grid's intensity. */
export const cost: View = {
  id: 'cost',
  title: 'Cost & carbon',
  async render(ctx) {
    const catalog: Series[] = (await get('/api/v1/series', { limit: '1000' })).series;
    const meters = catalog.filter(isMeter);
    if (meters.length === 0) {
      ctx.root.append(emptyState(ctx, catalog));
      return;
    }
    const keysIn = (unit: string) => catalog.filter((s) => s.unit === unit).map((s) => s.key);
    const tariff = ctx.params.get('tariff') ?? keysIn(TARIFF_UNIT)[0];
    const intensity = ctx.params.get('intensity') ?? keysIn(INTENSITY_UNIT)[0];
    if (!tariff && !intensity) {
      ctx.root.append(nothingToWeigh(meters[0].key, ctx.period));
      return;
    }
    const choice: Choice = {
      meters,
      meter: ctx.params.get('meter') ?? meters[0].key,
      tariff,
      tariffUnit: catalog.find((s) => s.key === tariff)?.unit,
      standing: ctx.params.get('standing') ?? standingFor(tariff, keysIn(STANDING_UNIT)),
      intensity,
      fuels: catalog.filter((s) => s.unit === SHARE_UNIT && FUELS.has(lastSegment(s.key))),
    };
    ctx.root.append(
      h(
        'div',
        { class: 'pickers' },
        picker(ctx, 'tariff', 'Tariff', tariff, keysIn(TARIFF_UNIT)),
        picker(ctx, 'intensity', 'Carbon intensity', intensity, keysIn(INTENSITY_UNIT)),
        picker(
          ctx,
          'meter',
          'Meter (carbon)',
          choice.meter,
          meters.map((m) => m.key),
        ),
      ),
    );
    const table = h('section', { class: 'panel', 'aria-label': 'Sources and cost' });
    const carbon = h('section', { class: 'panel', 'aria-label': 'Carbon' });
    ctx.root.append(table, carbon);
    // each panel shows its own answer or error: one failing request does not blank the page
    await Promise.all([costTable(ctx, choice, table), carbonPanel(ctx, choice, carbon)]);
  },
};

/** The standing charge of the same tariff (`…/unit-rate/…` → `…/standing-charge/…`), else the first in p/day. */
function standingFor(tariff: string | undefined, standings: string[]): string | undefined {
  const twin = tariff?.replace('unit-rate', 'standing-charge');
  return standings.find((key) => key === twin) ?? standings[0];
}

const range = (period: Period, zone: string, window?: string) => ({
  start: period.start.toISO() ?? undefined,
  end: period.end.toISO() ?? undefined,
  tz: zone,
  window,
});

async function costOf(ctx: ViewContext, choice: Choice, meter: string, period: Period): Promise<CostTotals> {
  const body = await get('/api/v1/energy/cost', {
    energy: meter,
    tariff: choice.tariff,
    standing: choice.standing,
    ...range(period, ctx.config.timezone),
  });
  return body.totals;
}

/** The sources-and-cost table: a row per meter, their totals, and the previous period's when comparing. */
async function costTable(ctx: ViewContext, choice: Choice, panel: HTMLElement) {
  panel.append(h('h2', {}, `Sources and cost, ${ctx.period.label}`));
  if (!choice.tariff) {
    panel.append(missingSeries('tariff', choice.meters[0].key, ctx.period));
    return;
  }
  const keys = choice.meters.map((m) => m.key);
  const [rows, previous] = await Promise.all([
    Promise.allSettled(keys.map((key) => costOf(ctx, choice, key, ctx.period))),
    ctx.previous
      ? Promise.allSettled(keys.map((key) => costOf(ctx, choice, key, ctx.previous!)))
      : Promise.resolve(undefined),
  ]);
  const money = moneyIn(choice.tariffUnit);
  const head = ['Source', 'Energy', 'Cost', 'Effective price', 'Standing charge', 'Total', 'Missing slots', 'Unpriced'];
  const body = h('tbody');
  rows.forEach((row, i) => {
    const tr = h('tr', { 'data-source': keys[i] }, h('th', { scope: 'row' }, keys[i]));
    if (row.status === 'fulfilled') tr.append(...cells(row.value, money, head));
    else tr.append(h('td', { colspan: String(head.length - 1) }, problem((row.reason as Error).message)));
    body.append(tr);
  });
  const foot = h('tfoot');
  foot.append(totalsRow('Total', addUp(answered(rows)), money, head, 'cost-totals'));
  if (previous && ctx.previous) {
    const failed = previous.find((p) => p.status === 'rejected');
    if (failed) foot.append(h('tr', {}, h('td', { colspan: String(head.length) }, problem(failed.reason.message))));
    else
      foot.append(
        totalsRow(`Previous: ${ctx.previous.label}`, addUp(answered(previous)), money, head, 'cost-previous'),
      );
  }
  const table = h(
    'table',
    { class: 'cost-table', 'data-testid': 'cost-table' },
    h('thead', {}, h('tr', {}, ...head.map((name) => h('th', { scope: 'col' }, name)))),
    body,
    foot,
  );
  panel.append(
    table,
    h(
      'p',
      { class: 'note' },
      `Priced by ${choice.tariff}${choice.standing ? `, standing charge ${choice.standing}` : ', no standing charge series'} (GET /api/v1/energy/cost). ` +
        'Missing slots: stretches of use with no price in force; their energy is the unpriced kWh, left out of the cost and the effective price. ' +
        'The total row adds the sources as they are (a sub-meter inside a whole-house meter is counted in both) and counts the standing charge once: it is per supply, the same on every row.',
    ),
  );
}

function answered(rows: PromiseSettledResult<CostTotals>[]): CostTotals[] {
  return rows.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
}

/** The sources added up; the standing charge (the same on every row) once. */
function addUp(rows: CostTotals[]): CostTotals {
  const sum = (field: keyof CostTotals) => rows.reduce((total, row) => total + (row[field] ?? 0), 0);
  const energy = sum('energy_kwh');
  const costs = sum('cost');
  const unpriced = sum('unpriced_kwh');
  const standing = rows[0]?.standing_charge ?? 0;
  return {
    energy_kwh: energy,
    cost: costs,
    standing_charge: standing,
    total: costs + standing,
    effective_price_per_kwh: energy - unpriced > 0 ? costs / (energy - unpriced) : null,
    missing_slots: sum('missing_slots'),
    unpriced_kwh: unpriced,
  };
}

function totalsRow(label: string, totals: CostTotals, money: Money, head: string[], testId: string) {
  return h('tr', { 'data-testid': testId }, h('th', { scope: 'row' }, label), ...cells(totals, money, head));
}

/** A row's numbers; each cell names its API field, and its column for the stacked phone layout. */
function cells(t: CostTotals, money: Money, head: string[]): HTMLElement[] {
  const values: [keyof CostTotals, string][] = [
    ['energy_kwh', formatKwh(t.energy_kwh)],
    ['cost', money.amount(t.cost)],
    ['effective_price_per_kwh', money.rate(t.effective_price_per_kwh)],
    ['standing_charge', money.amount(t.standing_charge)],
    ['total', money.amount(t.total)],
    ['missing_slots', String(t.missing_slots)],
    ['unpriced_kwh', formatKwh(t.unpriced_kwh)],
  ];
  const gap = t.missing_slots > 0;
  return values.map(([field, text], i) =>
    h(
      'td',
      {
        'data-field': field,
        'data-label': head[i + 1],
        class: gap && (field === 'missing_slots' || field === 'unpriced_kwh') ? 'gap' : undefined,
      },
      text,
    ),
  );
}

interface Money {
  amount(value: number): string;
  rate(value: number | null): string;
}

const two = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Costs in the tariff's currency: pence (p/kWh) shown as pounds, any other as its own unit. */
function moneyIn(unit: string | null | undefined): Money {
  const currency = unit?.split('/')[0] ?? '';
  return {
    amount: (value) => (currency === 'p' ? `£${two.format(value / 100)}` : `${two.format(value)} ${currency}`.trim()),
    rate: (value) => (value === null ? '—' : `${two.format(value)} ${unit ?? ''}`.trim()),
  };
}

/** `/api/v1/energy/carbon` of one meter against an intensity (or any step series: a fuel's share). */
async function carbonOf(ctx: ViewContext, meter: string, intensity: string, period: Period, window?: string) {
  return get('/api/v1/energy/carbon', { energy: meter, intensity, ...range(period, ctx.config.timezone, window) });
}

/** Half-hours for a day, coarser for longer periods: at most ~2,000 buckets, never finer than 30 minutes. */
function carbonWindow(period: Period): string {
  const fit = windowFor(period);
  return fit.minutes < 30 ? '30m' : fit.name;
}

/** The carbon of the meter's use: grams, average intensity, low-carbon share, and intensity against use. */
async function carbonPanel(ctx: ViewContext, choice: Choice, panel: HTMLElement) {
  panel.append(h('h2', {}, `Carbon of ${choice.meter}, ${ctx.period.label}`));
  const { intensity } = choice;
  if (!intensity) {
    panel.append(missingSeries('intensity', choice.meter, ctx.period));
    return;
  }
  const figures = h('dl', { class: 'figures' });
  const chart = h('div', { class: 'chart-box' });
  panel.append(figures, chart);
  await Promise.all([carbonFigures(ctx, choice, intensity, figures), carbonChart(ctx, choice, intensity, chart)]);
  panel.append(
    h(
      'p',
      { class: 'note' },
      `Intensity ${intensity} (GET /api/v1/energy/carbon). Missing slots: stretches of use with no intensity in force; their energy is the unknown kWh, left out of the grams. ` +
        `Low-carbon share: wind, solar, nuclear, hydro and biomass out of every fuel of the generation mix (${SHARE_UNIT} series named by fuel), each weighted by this meter's use.`,
    ),
  );
}

interface CarbonSummary {
  totals: Json;
  share: number | null;
}

async function carbonSummary(ctx: ViewContext, choice: Choice, intensity: string, period: Period) {
  const [body, share] = await Promise.all([
    carbonOf(ctx, choice.meter, intensity, period),
    lowCarbonShare(ctx, choice, period),
  ]);
  return { totals: body.totals, share } as CarbonSummary;
}

/**
 * The share of the meter's use met by low-carbon generation: each fuel's share (%) weighted by the
 * use in each half-hour (the carbon endpoint multiplies kWh by any step series), low-carbon fuels
 * over all fuels. Null when no fuel has a share while the meter was used.
 */
async function lowCarbonShare(ctx: ViewContext, choice: Choice, period: Period): Promise<number | null> {
  const answers = await Promise.all(choice.fuels.map((fuel) => carbonOf(ctx, choice.meter, fuel.key, period)));
  let low = 0;
  let all = 0;
  answers.forEach((answer, i) => {
    const share: number | null = answer.totals.average_g_per_kwh;
    if (share === null) return;
    all += share;
    if (LOW_CARBON.has(lastSegment(choice.fuels[i].key))) low += share;
  });
  return all > 0 ? (100 * low) / all : null;
}

async function carbonFigures(ctx: ViewContext, choice: Choice, intensity: string, figures: HTMLElement) {
  let now: CarbonSummary;
  let before: CarbonSummary | undefined;
  try {
    [now, before] = await Promise.all([
      carbonSummary(ctx, choice, intensity, ctx.period),
      ctx.previous ? carbonSummary(ctx, choice, intensity, ctx.previous) : undefined,
    ]);
  } catch (err) {
    figures.replaceWith(problem((err as Error).message));
    return;
  }
  const unknownShare = choice.fuels.length
    ? 'unknown: no generation mix while the meter was used'
    : 'unknown: no generation-mix series';
  const figure = (label: string, testId: string, show: (s: CarbonSummary) => string, gap = false) =>
    h(
      'div',
      { class: gap ? 'gap' : undefined },
      h('dt', {}, label),
      h('dd', { 'data-testid': testId }, show(now)),
      before && h('dd', { class: 'previous', 'data-testid': `${testId}-previous` }, `previous: ${show(before)}`),
    );
  figures.append(
    figure('CO₂', 'carbon-total', (s) => formatGrams(s.totals.carbon_g)),
    figure('Average intensity', 'carbon-average', (s) => formatIntensity(s.totals.average_g_per_kwh)),
    figure('Low-carbon share', 'low-carbon-share', (s) =>
      s.share === null ? unknownShare : `${two.format(s.share)} %`,
    ),
    figure('Energy', 'carbon-energy', (s) => formatKwh(s.totals.energy_kwh)),
    figure('Missing slots', 'carbon-missing', (s) => String(s.totals.missing_slots), now.totals.missing_slots > 0),
    figure('Unknown', 'carbon-unknown', (s) => formatKwh(s.totals.unknown_kwh), now.totals.unknown_kwh > 0),
  );
}

const whole = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });

/** Grams of CO2, in kg from 1,000 g. */
export function formatGrams(grams: number): string {
  return Math.abs(grams) >= 1000 ? `${two.format(grams / 1000)} kg` : `${whole.format(grams)} g`;
}

const formatIntensity = (value: number | null) => (value === null ? '—' : `${whole.format(value)} g/kWh`);

/** Use per bucket as bars (hatched where the intensity is missing) and the grid's intensity as a line. */
async function carbonChart(ctx: ViewContext, choice: Choice, intensity: string, box: HTMLElement) {
  const window = carbonWindow(ctx.period);
  let buckets: { time: string; energy_kwh: number | null; missing_slots: number }[];
  let line: { time: string; value: number | null }[];
  try {
    const [carbon, query] = await Promise.all([
      carbonOf(ctx, choice.meter, intensity, ctx.period, window),
      get('/api/v1/query', {
        series: intensity,
        start: ctx.period.start.toISO() ?? undefined,
        end: ctx.period.end.minus(1).toISO() ?? undefined,
        window,
        agg: 'avg',
        // a half-hour without an intensity is a break in the line, not a straight line across it
        fill: 'null',
        tz: ctx.config.timezone,
      }),
    ]);
    buckets = carbon.buckets;
    line = query.results[0].points;
  } catch (err) {
    box.append(problem((err as Error).message));
    return;
  }
  const used = buckets.filter((b) => b.energy_kwh !== null);
  if (used.length === 0 && line.length === 0) {
    box.append(
      h('p', { class: 'empty', 'data-testid': 'no-carbon-readings' }, 'No use and no intensity in this period.'),
    );
    return;
  }
  const missing = buckets.filter((b) => b.missing_slots > 0).length;
  const element = h('div', {
    class: 'chart',
    'data-testid': 'carbon-chart',
    'data-window': window,
    'data-buckets': String(used.length),
    'data-missing': String(missing),
  });
  box.append(
    h(
      'p',
      { class: 'note' },
      `Use (kWh bars) and intensity (g/kWh line) per ${window}. `,
      h(
        'span',
        { class: missing ? 'gap' : undefined, 'data-testid': 'carbon-missing-buckets' },
        `${missing} ${missing === 1 ? 'bucket' : 'buckets'} with missing intensity`,
      ),
      missing ? ' (hatched grey bars).' : '.',
    ),
    element,
  );
  drawCarbon(ctx, element, buckets, line);
}

function drawCarbon(
  ctx: ViewContext,
  element: HTMLElement,
  buckets: { time: string; energy_kwh: number | null; missing_slots: number }[],
  line: { time: string; value: number | null }[],
) {
  const style = getComputedStyle(document.documentElement);
  const colour = (name: string) => style.getPropertyValue(name).trim();
  const axis = { stroke: colour('--fg'), grid: { stroke: colour('--grid') }, ticks: { stroke: colour('--grid') } };
  const seconds = (iso: string) => DateTime.fromISO(iso).toSeconds();
  // two bar series: priced buckets, and buckets where some use had no intensity (drawn hatched)
  const bars: uPlot.AlignedData = [
    buckets.map((b) => seconds(b.time)),
    buckets.map((b) => (b.missing_slots > 0 ? null : b.energy_kwh)),
    buckets.map((b) => (b.missing_slots > 0 ? (b.energy_kwh ?? 0) : null)),
  ];
  const intensity: uPlot.AlignedData = [line.map((p) => seconds(p.time)), line.map((p) => p.value)];
  const data = uPlot.join([bars, intensity]);
  const barPaths = uPlot.paths.bars?.({ size: [0.85, 80], align: 1 });
  const zone = ctx.config.timezone;
  const from = ctx.period.start.toSeconds();
  const to = ctx.period.end.toSeconds();
  const size = () => ({ width: Math.max(element.clientWidth, 200), height: 300 });
  const plot = new uPlot(
    {
      ...size(),
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), zone),
      scales: {
        x: { time: true, range: () => [from, to] },
        kWh: { range: (_u, _min, max) => [0, max || 1] },
        g: { range: (_u, _min, max) => [0, max || 1] },
      },
      legend: { show: false },
      cursor: { points: { show: false } },
      series: [
        {},
        {
          label: 'kWh',
          scale: 'kWh',
          fill: colour('--accent'),
          stroke: colour('--accent'),
          paths: barPaths,
          points: { show: false },
        },
        {
          label: 'kWh, intensity missing',
          scale: 'kWh',
          fill: hatch(colour('--muted')),
          stroke: colour('--muted'),
          paths: barPaths,
          points: { show: false },
        },
        { label: 'g/kWh', scale: 'g', stroke: '#d9480f', width: 2, points: { show: false }, spanGaps: false },
      ],
      axes: [
        {
          ...axis,
          values: (_u, splits, _i, _space, step) =>
            splits.map((s) => DateTime.fromSeconds(s, { zone }).toFormat(step < 86_400 ? 'HH:mm' : 'd LLL')),
        },
        { ...axis, scale: 'kWh', label: 'kWh', size: 60 },
        { ...axis, scale: 'g', label: 'g/kWh', side: 1, size: 60, grid: { show: false } },
      ],
    },
    data,
    element,
  );
  // follows the page's width (a phone turned, a window resized)
  new ResizeObserver(() => plot.setSize(size())).observe(element);
}

/** Diagonal grey stripes: a bucket whose intensity is missing is seen as such, in either colour scheme. */
function hatch(stroke: string): CanvasPattern | string {
  const tile = document.createElement('canvas');
  tile.width = 8;
  tile.height = 8;
  const pen = tile.getContext('2d');
  if (!pen) return stroke;
  pen.strokeStyle = stroke;
  pen.lineWidth = 2;
  pen.beginPath();
  pen.moveTo(0, 8);
  pen.lineTo(8, 0);
  pen.stroke();
  return pen.createPattern(tile, 'repeat') ?? stroke;
}

/** A URL parameter chosen from a list (the current value kept even when not in it). */
function picker(ctx: ViewContext, name: string, label: string, current: string | undefined, keys: string[]) {
  const select = h('select', { id: name, name });
  const all = current && !keys.includes(current) ? [current, ...keys] : keys;
  if (all.length === 0) select.append(h('option', { value: '' }, 'none'));
  for (const key of all) select.append(h('option', { value: key, selected: key === current ? '' : undefined }, key));
  select.addEventListener('change', () => {
    history.pushState(null, '', ctx.href({ [name]: select.value || undefined }));
    dispatchEvent(new PopStateEvent('popstate'));
  });
  return h('p', { class: 'meter' }, h('label', { for: name }, `${label} `), select);
}

const origin = () => location.origin;

/** The curl that sends one reading of a series with its unit, as the ingest endpoint takes it. */
function sendOne(series: string, unit: string, value: number, since: string): string {
  const line = JSON.stringify({ series, value, ts: since, unit });
  return `curl -u <your key>: -H 'Content-Type: application/x-ndjson' --data-binary '${line}' ${origin()}/ingest`;
}

/** What to set or send when the prices or the intensities are missing. */
function missingSeries(what: 'tariff' | 'intensity', meter: string, period: Period): HTMLElement {
  // from the start of the period shown, so the reading sent covers it
  const since = period.start.toUTC().toISO({ suppressMilliseconds: true }) ?? '';
  const box = h('div', { class: 'empty', 'data-testid': `no-${what}` });
  if (what === 'tariff')
    box.append(
      h('p', {}, `No tariff: no series in ${TARIFF_UNIT} to price ${meter} by.`),
      h(
        'p',
        {},
        'Set WATTLINE_OCTOPUS_PRODUCT and WATTLINE_OCTOPUS_TARIFF (the octopus-tariff source writes tariff/unit-rate/inc-vat each half-hour), or send a price yourself (each holds until the next):',
      ),
      h('pre', {}, sendOne('tariff/unit-rate/inc-vat', TARIFF_UNIT, 24.5, since)),
      h('p', {}, 'and a standing charge per day:'),
      h('pre', {}, sendOne('tariff/standing-charge/inc-vat', STANDING_UNIT, 60, since)),
    );
  else
    box.append(
      h('p', {}, `No carbon intensity: no series in ${INTENSITY_UNIT} to weigh ${meter} by.`),
      h(
        'p',
        {},
        'Leave WATTLINE_CARBON_URL at its default (the carbon-intensity and generation-mix sources write grid/carbon-intensity/actual and grid/generation/<fuel> each half-hour on a jobs process), or send an intensity yourself (each holds until the next):',
      ),
      h('pre', {}, sendOne('grid/carbon-intensity/actual', INTENSITY_UNIT, 180, since)),
    );
  return box;
}

/** Meters, but nothing to price or weigh them by. */
function nothingToWeigh(meter: string, period: Period): HTMLElement {
  return h(
    'section',
    { class: 'empty panel', 'data-testid': 'empty-state' },
    h('h2', {}, 'No tariff or carbon intensity yet'),
    missingSeries('tariff', meter, period),
    missingSeries('intensity', meter, period),
  );
}
