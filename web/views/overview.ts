import { DateTime } from 'luxon';
import { get, type Json } from '../api.js';
import { barChart } from '../chart.js';
import { formatKwh, h, problem } from '../dom.js';
import { enclosing, type Period, specOf } from '../period.js';
import type { View, ViewContext } from '../view.js';

export interface Series {
  key: string;
  unit: string | null;
  kind: 'gauge' | 'counter' | 'interval';
  firstTime: string | null;
  lastTime: string | null;
}

const POWER_UNITS = new Set(['W', 'kW', 'MW']);

/** A series whose energy the API can work out: a meter (counter, interval) or a power gauge. */
export const isMeter = (s: Pick<Series, 'unit' | 'kind'>) =>
  s.kind === 'counter' || s.kind === 'interval' || POWER_UNITS.has(s.unit ?? '');

/** Overview: energy totals for the day, week, month and year of the period, and the period's energy as bars. */
export const overview: View = {
  id: 'overview',
  title: 'Overview',
  async render(ctx) {
    const catalog: Series[] = (await get('/api/v1/series', { limit: '1000' })).series;
    const meters = catalog.filter(isMeter);
    const chosen = ctx.params.get('meter');
    const meter = chosen ? (catalog.find((s) => s.key === chosen) ?? ({ key: chosen } as Series)) : meters[0];
    if (!meter) {
      ctx.root.append(emptyState(ctx, catalog));
      return;
    }
    ctx.root.append(meterPicker(ctx, meter, meters));
    const strip = h('section', { class: 'totals', 'aria-label': 'Energy totals' });
    const bars = h('section', { class: 'panel', 'aria-label': 'Energy in the period' });
    ctx.root.append(strip, bars);
    // each panel shows its own answer or error: one failing request does not blank the page
    await Promise.all([totals(ctx, meter, strip), periodBars(ctx, meter, bars)]);
  },
};

async function energy(meter: string, period: Period, zone: string, window?: string): Promise<Json> {
  const body = await get('/api/v1/energy', {
    series: meter,
    start: period.start.toISO() ?? undefined,
    end: period.end.toISO() ?? undefined,
    tz: zone,
    window,
  });
  return body.results[0];
}

/** The day, week, month and year around the period (its start; a rolling range's end). */
async function totals(ctx: ViewContext, meter: Series, strip: HTMLElement) {
  const at = ctx.period.unit ? ctx.period.start : ctx.period.end.minus(1);
  const periods = enclosing(at);
  const names = ['day', 'week', 'month', 'year'];
  await Promise.all(
    periods.map(async (period, i) => {
      const card = h('a', { class: 'total', href: ctx.href({ period: period.spec }), 'data-nav': '' });
      card.append(h('span', { class: 'label' }, period.label));
      strip.append(card);
      try {
        const result = await energy(meter.key, period, ctx.config.timezone);
        card.append(h('strong', { 'data-testid': `total-${names[i]}` }, formatKwh(result.total)));
      } catch (err) {
        card.append(problem((err as Error).message));
      }
    }),
  );
}

async function periodBars(ctx: ViewContext, meter: Series, panel: HTMLElement) {
  const { period } = ctx;
  const heading = h('h2', {}, `Energy, ${period.label}`);
  panel.append(heading);
  let result: Json;
  try {
    result = await energy(meter.key, period, ctx.config.timezone, period.window);
  } catch (err) {
    panel.append(problem((err as Error).message));
    return;
  }
  const points: { time: string; value: number | null }[] = result.points;
  const measured = points.filter((p) => p.value !== null).length;
  heading.append(' ', h('strong', { 'data-testid': 'period-total' }, formatKwh(result.total)));
  panel.append(
    h('p', { class: 'note' }, `${meter.key}: ${result.method ?? result.kind}, ${bucketWords(period.window)}`),
  );
  if (measured === 0) {
    panel.append(noReadings(ctx, meter));
    return;
  }
  const chart = h('div', { class: 'chart', 'data-testid': 'energy-bars', 'data-buckets': String(measured) });
  panel.append(chart);
  barChart(chart, {
    times: points.map((p) => DateTime.fromISO(p.time).toSeconds()),
    values: points.map((p) => p.value),
    from: period.start.toSeconds(),
    to: period.end.toSeconds(),
    zone: ctx.config.timezone,
    label: 'kWh',
  });
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

/** Which series the overview adds up; `?meter=` in the URL. */
export function meterPicker(ctx: ViewContext, meter: Series, meters: Series[]): HTMLElement {
  const select = h('select', { id: 'meter', name: 'meter' });
  const keys = meters.some((s) => s.key === meter.key) ? meters : [meter, ...meters];
  for (const s of keys)
    select.append(h('option', { value: s.key, selected: s.key === meter.key ? '' : undefined }, s.key));
  select.addEventListener('change', () => {
    history.pushState(null, '', ctx.href({ meter: select.value }));
    dispatchEvent(new PopStateEvent('popstate'));
  });
  return h('p', { class: 'meter' }, h('label', { for: 'meter' }, 'Meter '), select);
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
