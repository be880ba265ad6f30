import { DateTime } from 'luxon';
import uPlot from 'uplot';

export interface Bars {
  /** Bucket starts, epoch seconds. */
  times: number[];
  values: (number | null)[];
  /** The period's edges, epoch seconds: the x axis spans them even where buckets are empty. */
  from: number;
  to: number;
  zone: string;
  label: string;
}

/** Bars for buckets, each drawn from its start to the next, with times on the axis in the configured zone. */
export function barChart(element: HTMLElement, bars: Bars): uPlot {
  const style = getComputedStyle(document.documentElement);
  const colour = (name: string) => style.getPropertyValue(name).trim();
  const axis = { stroke: colour('--fg'), grid: { stroke: colour('--grid') }, ticks: { stroke: colour('--grid') } };
  const plot = new uPlot(
    {
      width: Math.max(element.clientWidth, 200),
      height: 280,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), bars.zone),
      scales: { x: { time: true, range: () => [bars.from, bars.to] }, y: { range: (_u, _min, max) => [0, max || 1] } },
      legend: { show: false },
      cursor: { points: { show: false } },
      series: [
        {},
        {
          label: bars.label,
          stroke: colour('--accent'),
          fill: colour('--accent'),
          paths: uPlot.paths.bars?.({ size: [0.85, 80], align: 1 }),
          points: { show: false },
        },
      ],
      axes: [
        { ...axis, values: (_u, splits, _i, _space, step) => splits.map(timeLabel(bars.zone, step)) },
        { ...axis, label: bars.label, size: 60 },
      ],
    },
    [bars.times, bars.values],
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
