import { ENERGY_WINDOWS, type EnergyWindow, isEnergyWindow } from '../../../core/energy/edges.js';
import { isEnergyUnit } from '../../../core/energy/units.js';
import { InvalidInput } from '../../../core/errors.js';
import { SERIES_KEY_PATTERN } from '../../../core/readings.js';
import { isTimeZone } from '../../../core/time/buckets.js';
import { parsePrecision, parseTimeParam } from '../../../core/time/timestamps.js';
import type { EnergyRange } from './service.js';

/** As /api/v1/query; the readings they hold are bounded by energy.maxReadings. */
const MAX_SERIES = 1000;

/** Reads the query string of an energy route, each problem a 400 naming its parameter. */
export function energyParams(query: Record<string, unknown>) {
  const text = (name: string): string | undefined => {
    const v = query[name];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') throw new InvalidInput(`invalid_${name}`, `${name} must be given once`, { field: name });
    return v;
  };
  const required = (name: string, what: string): string => {
    const v = text(name);
    if (v === undefined) throw new InvalidInput(`missing_${name}`, `${name} is required: ${what}`, { field: name });
    return v;
  };
  const seriesKey = (name: string, value: string) => {
    if (!SERIES_KEY_PATTERN.test(value))
      throw new InvalidInput(`invalid_${name}`, `${name} "${value.slice(0, 50)}" is not a series key`, { field: name });
    return value;
  };
  const seriesList = (name: string): string[] => {
    const keys = [
      ...new Set(
        required(name, 'one or more series keys, comma-separated')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    ];
    if (keys.length > MAX_SERIES)
      throw new InvalidInput(`invalid_${name}`, `at most ${MAX_SERIES} series`, { field: name });
    return keys.map((k) => seriesKey(name, k));
  };
  const oneSeries = (name: string) => seriesKey(name, required(name, 'a series key'));
  const optionalSeries = (name: string) => {
    const v = text(name);
    return v === undefined ? undefined : seriesKey(name, v);
  };

  const range = (): EnergyRange => {
    const precision = parsePrecision(text('precision'));
    const time = (name: 'start' | 'end') =>
      parseTimeParam(required(name, 'ISO 8601 or an epoch number'), precision, name);
    const startMs = time('start');
    const endMs = time('end');
    if (!(endMs > startMs)) throw new InvalidInput('invalid_end', 'end must be after start', { field: 'end' });
    const windowText = text('window');
    if (windowText !== undefined && !isEnergyWindow(windowText))
      throw new InvalidInput(
        'invalid_window',
        `window must be one of ${ENERGY_WINDOWS.join(', ')} (got "${windowText.slice(0, 20)}")`,
        { field: 'window' },
      );
    const zone = text('tz') ?? 'UTC';
    if (!isTimeZone(zone))
      throw new InvalidInput(
        'invalid_tz',
        `tz must be an IANA time zone such as Europe/London (got "${zone.slice(0, 40)}")`,
        {
          field: 'tz',
        },
      );
    return { startMs, endMs, window: windowText as EnergyWindow | undefined, zone };
  };

  const energyUnit = (): string => {
    const unit = text('unit') ?? 'kWh';
    if (!isEnergyUnit(unit))
      throw new InvalidInput(
        'invalid_unit',
        `unit must be an energy unit: Wh, kWh or MWh (got "${unit.slice(0, 20)}")`,
        {
          field: 'unit',
        },
      );
    return unit;
  };

  return { text, seriesList, oneSeries, optionalSeries, range, energyUnit, tz: () => text('tz') };
}
