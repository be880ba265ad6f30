import { SERIES_KEY_PATTERN } from '../../core/readings.js';

/** What a client asks of the live WebSocket: subscribe to, or unsubscribe from, sensors, rooms and series. */
export interface ClientRequest {
  action: 'subscribe' | 'unsubscribe';
  sensors: string[];
  rooms: string[];
  /** Exact series keys, and prefix patterns ending in `*` (`home/*`; `*` alone is every series). */
  series: string[];
}

/** A message the server refuses: answered with an `error` frame, the connection stays open. */
export interface ClientError {
  error: string;
  /** The field at fault; null when the whole message is. */
  field: string | null;
}

/** Most entries one subscribe may name per field: a bound on what one message costs to resolve. */
export const MAX_ENTRIES = 10_000;

const isPattern = (p: string) => p === '*' || (p.endsWith('*') && SERIES_KEY_PATTERN.test(p.slice(0, -1)));
export const isGlob = (p: string) => p.endsWith('*');

function list(raw: Record<string, unknown>, field: 'sensors' | 'rooms' | 'series'): string[] | ClientError {
  const value = raw[field];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0))
    return { error: `${field} must be a list of non-empty strings`, field };
  if (value.length > MAX_ENTRIES) return { error: `${field} names more than ${MAX_ENTRIES} entries`, field };
  if (field === 'series') {
    const bad = value.find((p: string) => !SERIES_KEY_PATTERN.test(p) && !isPattern(p));
    if (bad !== undefined)
      return {
        error: `"${bad}" is neither a series key nor a pattern (a key prefix ending in *, e.g. home/*)`,
        field,
      };
  }
  return value as string[];
}

/** Reads one client frame; an error names what is wrong with it. */
export function parseClientMessage(text: string): ClientRequest | ClientError {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { error: 'the message is not JSON', field: null };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { error: 'the message must be a JSON object', field: null };
  const message = raw as Record<string, unknown>;
  if (message.action !== 'subscribe' && message.action !== 'unsubscribe')
    return { error: 'action must be "subscribe" or "unsubscribe"', field: 'action' };
  const sensors = list(message, 'sensors');
  if (!Array.isArray(sensors)) return sensors;
  const rooms = list(message, 'rooms');
  if (!Array.isArray(rooms)) return rooms;
  const series = list(message, 'series');
  if (!Array.isArray(series)) return series;
  return { action: message.action, sensors, rooms, series };
}
