import { DateTime } from 'luxon';
import uPlot from 'uplot';

/** One series of bars: filled, or outlined (drawn over the filled ones, so both stay visible). */
export interface BarSeries {
  label: string;
  values: (number | null)[];
  /** A CSS variable (`--accent`) or a colour. */
  colour: string;
  outline?: boolean;
}

export interface Bars {
  /** Bucket starts, epoch seconds. */
  times: number[];
  series: BarSeries[];
  /** The period's edges, epoch seconds: the x axis spans them even where buckets are empty. */
  from: number;
  to: number;
  zone: string;
  label: string;
  /** The widest a bar is drawn, in px (default 80: many buckets); a few half-hours may fill their slot. */
  maxBarPx?: number;
}

/** Bars for buckets, each drawn from its start to the next, with times on the axis in the configured zone. */
export function barChart(element: HTMLElement, bars: Bars): uPlot {
  const style = getComputedStyle(document.documentElement);
  const colour = (name: string) => (name.startsWith('--') ? style.getPropertyValue(name).trim() : name);
  const axis = { stroke: colour('--fg'), grid: { stroke: colour('--grid') }, ticks: { stroke: colour('--grid') } };
  // outlined series last: drawn over the filled bars they are compared with
  const ordered = [...bars.series.filter((s) => !s.outline), ...bars.series.filter((s) => s.outline)];
  const plot = new uPlot(
    {
      width: Math.max(element.clientWidth, 200),
      height: 280,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), bars.zone),
      scales: {
        x: { time: true, range: () => [bars.from, bars.to] },
        // from zero (or the lowest negative bar: export is drawn downwards) to the highest bar
        y: { range: (_u, min, max) => [Math.min(0, min ?? 0), max > 0 ? max : 1] },
      },
      legend: { show: false },
      cursor: { points: { show: false } },
      series: [
        {},
        ...ordered.map(
          (s): uPlot.Series => ({
            label: s.label,
            stroke: colour(s.colour),
            fill: s.outline ? undefined : colour(s.colour),
            width: s.outline ? 2 : 1,
            paths: uPlot.paths.bars?.({ size: [0.85, bars.maxBarPx ?? 80], align: 1 }),
            points: { show: false },
          }),
        ),
      ],
      axes: [
        { ...axis, values: (_u, splits, _i, _space, step) => splits.map(timeLabel(bars.zone, step)) },
        { ...axis, label: bars.label, size: 60 },
      ],
    },
    [bars.times, ...ordered.map((s) => s.values)],
    element,
  );
  // follows the page's width (a phone turned, a window resized)
  new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 200), height: 280 })).observe(element);
  return plot;
}

/** Tick labels in the zone, 24-hour, day before month: times within a day, days within a month, else months. */
function timeLabel(zone: string, stepS: number) {
  const format = stepS < 86_400 ? 'HH:mm' : stepS < 28 * 86_400 ? 'd LLL' : 'LLL yyyy';
  return (s: number) => DateTime.fromSeconds(s, { zone }).toFormat(format);
}
