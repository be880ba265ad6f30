import { InvalidInput } from '../../core/errors.js';
import type { Timestamp } from '../../core/grpc/proto.js';

/** `edgecom.TimeSeriesRequest` as decoded with `PROTO_OPTIONS` (an unset timestamp is null). */
export interface TimeSeriesRequest {
  start: Timestamp | null;
  end: Timestamp | null;
  window: string;
  aggregation: string;
}

export const EDGECOM_WINDOWS = ['1m', '5m', '1h', '1d'] as const;
export type EdgecomWindow = (typeof EDGECOM_WINDOWS)[number];
const AGGREGATIONS = { MIN: 'min', MAX: 'max', AVG: 'avg', SUM: 'sum' } as const;
type EdgecomAggregation = (typeof AGGREGATIONS)[keyof typeof AGGREGATIONS];

/** A request that passed validation, in Wattline's terms (inclusive epoch-ms range). */
export interface EdgecomQuery {
  startMs: number;
  endMs: number;
  window: EdgecomWindow;
  agg: EdgecomAggregation;
}

const MAX_RANGE_S = 2 * 365 * 86_400;
// google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z
const MIN_SECONDS = -62_135_596_800;
const MAX_SECONDS = 253_402_300_799;
// longer values are cut in messages, which travel in a header
const ECHO_CHARS = 64;

/**
 * Checks a QueryTimeSeries request in edgecom's order, each failure an `InvalidInput` with edgecom's
 * exact message: missing timestamp (unset or at the Unix epoch), start after end (equal is allowed),
 * a range over 2 × 365 days, a window not in 1m 5m 1h 1d, an aggregation not in MIN MAX AVG SUM.
 * Then one check edgecom lacked: a timestamp outside the range a Timestamp may hold.
 */
export function validateTimeSeriesRequest(request: TimeSeriesRequest): EdgecomQuery {
  const { start, end } = request;
  if (!start || !end || isEpoch(start) || isEpoch(end))
    throw new InvalidInput('missing_timestamp', 'missing timestamp', {
      field: !start || isEpoch(start) ? 'start' : 'end',
    });
  // compared in seconds and nanoseconds: nanosecond differences count, as in edgecom (Go's time.Time)
  let seconds = end.seconds - start.seconds;
  let nanos = end.nanos - start.nanos;
  if (nanos < 0) {
    seconds -= 1;
    nanos += 1_000_000_000;
  }
  if (seconds < 0) throw new InvalidInput('invalid_range', 'start time must be before end time', { field: 'start' });
  if (seconds > MAX_RANGE_S || (seconds === MAX_RANGE_S && nanos > 0))
    throw new InvalidInput('invalid_range', 'time range exceeds maximum allowed', { field: 'end' });
  const { window, aggregation } = request;
  if (!(EDGECOM_WINDOWS as readonly string[]).includes(window))
    throw new InvalidInput('invalid_window', `invalid window: ${echo(window)}`, { field: 'window' });
  if (aggregation === '')
    throw new InvalidInput('invalid_aggregation', 'invalid aggregation', { field: 'aggregation' });
  if (!Object.hasOwn(AGGREGATIONS, aggregation))
    throw new InvalidInput('invalid_aggregation', `invalid aggregation: ${echo(aggregation)}`, {
      field: 'aggregation',
    });
  for (const [field, ts] of [
    ['start', start],
    ['end', end],
  ] as const) {
    if (
      ts.seconds < MIN_SECONDS ||
      ts.seconds > MAX_SECONDS ||
      !Number.isInteger(ts.nanos) ||
      ts.nanos < 0 ||
      ts.nanos > 999_999_999
    ) {
      throw new InvalidInput(
        'invalid_timestamp',
        `invalid timestamp: ${field} must be from 0001-01-01 to 9999-12-31 UTC with nanos 0 to 999999999`,
        { field },
      );
    }
  }
  return {
    // the store keeps milliseconds: round the range inwards so it stays inclusive of exactly what it covers
    startMs: start.seconds * 1000 + Math.ceil(start.nanos / 1_000_000),
    endMs: end.seconds * 1000 + Math.floor(end.nanos / 1_000_000),
    window: window as EdgecomWindow,
    agg: AGGREGATIONS[aggregation as keyof typeof AGGREGATIONS],
  };
}

function isEpoch(ts: Timestamp): boolean {
  return ts.seconds === 0 && ts.nanos === 0;
}

function echo(value: string): string {
  return value.length > ECHO_CHARS ? `${value.slice(0, ECHO_CHARS)}…` : value;
}
