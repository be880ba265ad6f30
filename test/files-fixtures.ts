/** Load-curve files as utilities deliver them, generated for the file-drop tests. */

const pad = (s: string, n: number) => s.padEnd(n, ' ').slice(0, n);
const record = (s: string) => s.padEnd(100, ' ');

/**
 * A `.sgl_v2` file (SEEDS.md §3): a `00` header, one `20` record per 15-minute interval of `day`
 * (YYYYMMDD, the time written is the interval's end, 0015 … 2400) with `kwh(i)` for interval i,
 * and a `99` trailer counting `trailerCount` records (default: the true count).
 */
export function sglFile(options: {
  entity?: string;
  meterPoint: string;
  day: string;
  kwh: (i: number) => number;
  intervals?: number;
  trailerCount?: number;
}): string {
  const intervals = options.intervals ?? 96;
  const lines = [record(`00${pad(options.entity ?? 'EDP DISTRIBUICAO', 20)}${options.day}000001`)];
  for (let i = 0; i < intervals; i++) {
    const end = (i + 1) * 15;
    const hhmm = `${String(Math.floor(end / 60)).padStart(2, '0')}${String(end % 60).padStart(2, '0')}`;
    const energy = String(Math.round(options.kwh(i) * 100)).padStart(10, '0');
    lines.push(record(`20${pad(options.meterPoint, 20)}${options.day}${hhmm}${energy}A`));
  }
  lines.push(record(`99${pad('TOTAL', 20)}${String(options.trailerCount ?? intervals).padStart(10, '0')}`));
  return `${lines.join('\r\n')}\r\n`;
}

/** UTC epoch ms of a Lisbon local time on a winter day (Lisbon is UTC+0 then). */
export const lisbonWinter = (day: string, minutes: number) =>
  Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8))) + minutes * 60_000;
