import { DateTime } from 'luxon';
import { InvalidInput } from '../../core/errors.js';
import type { Instruction, Response } from './repository.js';

/** The seed's limits: `0 < duration_minutes ≤ 120`, default 59; shifting 0–20 %. */
export const DEFAULT_DURATION_MINUTES = 59;
export const MAX_DURATION_MINUTES = 120;
export const MAX_SHIFTING_PERCENTAGE = 20;
export const MAX_DEVICES = 1000;
export const INSTRUCTIONS = ['participation', 'shifting', 'off'] as const;

/** An invitation as `POST /invitation/send` takes it (shapes are checked by the route schema). */
export interface InvitationBody {
  event_time?: unknown;
  load_kwh?: unknown;
  load_percentage?: unknown;
  iots?: unknown;
  duration_minutes?: unknown;
}

export interface Invitation {
  eventTimeMs: number;
  loadKwh: number;
  loadPercentage: number;
  iots: string[];
  durationMinutes: number;
}

const shown = (v: unknown) => JSON.stringify(v)?.slice(0, 40) ?? String(v);
const invalid = (field: string, message: string) => new InvalidInput(`invalid_${field}`, message, { field });

/**
 * A time as the seed takes it: ISO 8601; without an offset it is a wall-clock time in the
 * building's zone (`zone`, the core `timezone`), with one (`Z`, `+01:00`) it is that instant.
 * A wall-clock time skipped by a clock change (01:30 on a spring-forward night) is refused rather
 * than moved.
 */
export function parseEventTime(value: unknown, zone: string, field = 'event_time', allowDate = false): number {
  if (allowDate && typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const day = DateTime.fromISO(value, { zone });
    if (!day.isValid) throw invalid(field, `${field} ${shown(value)} is not a real date`);
    return day.startOf('day').toMillis();
  }
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value))
    throw invalid(field, `${field} must be an ISO 8601 time such as 2024-06-03T14:00:00 (got ${shown(value)})`);
  const parsed = DateTime.fromISO(value, { zone, setZone: true });
  if (!parsed.isValid)
    throw invalid(field, `${field} ${shown(value)} is not a real time: ${parsed.invalidExplanation ?? 'out of range'}`);
  const hasOffset = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(value);
  if (!hasOffset) {
    const wall = value.slice(11, 16);
    if (parsed.toFormat('HH:mm') !== wall)
      throw invalid(field, `${field} ${shown(value)} does not exist in ${zone} (the clocks skip it)`);
  }
  return parsed.toMillis();
}

/** Checks `POST /invitation/send` in the seed's order, each failure a 400 naming the field. */
export function checkInvitation(body: InvitationBody, zone: string, nowMs: number): Invitation {
  const eventTimeMs = parseEventTime(body.event_time, zone);
  if (eventTimeMs < nowMs)
    throw invalid(
      'event_time',
      `event_time must not be in the past (got ${shown(body.event_time)}, now is ${new Date(nowMs).toISOString()})`,
    );
  const loadKwh = body.load_kwh;
  if (typeof loadKwh !== 'number' || !Number.isFinite(loadKwh) || loadKwh <= 0)
    throw invalid('load_kwh', `load_kwh must be a number greater than 0 (got ${shown(loadKwh)})`);
  const loadPercentage = body.load_percentage;
  if (
    typeof loadPercentage !== 'number' ||
    !Number.isFinite(loadPercentage) ||
    loadPercentage < 0 ||
    loadPercentage > 100
  )
    throw invalid('load_percentage', `load_percentage must be a number from 0 to 100 (got ${shown(loadPercentage)})`);
  const iots = body.iots;
  if (!Array.isArray(iots) || !iots.length || !iots.every((id) => typeof id === 'string' && id.length > 0))
    throw invalid('iots', `iots must be a list of at least one device id (got ${shown(iots)})`);
  if (iots.length > MAX_DEVICES) throw invalid('iots', `iots may name at most ${MAX_DEVICES} devices`);
  const durationMinutes = body.duration_minutes ?? DEFAULT_DURATION_MINUTES;
  if (
    typeof durationMinutes !== 'number' ||
    !Number.isInteger(durationMinutes) ||
    durationMinutes <= 0 ||
    durationMinutes > MAX_DURATION_MINUTES
  )
    throw invalid(
      'duration_minutes',
      `duration_minutes must be whole minutes, more than 0 and at most ${MAX_DURATION_MINUTES} (got ${shown(durationMinutes)})`,
    );
  return { eventTimeMs, loadKwh, loadPercentage, iots: [...new Set(iots as string[])], durationMinutes };
}

/** `YES` or `NO`; anything else is a 400 (the seed stored it as NO). */
export function checkResponse(value: unknown): Exclude<Response, 'WAITING'> {
  if (value === 'YES' || value === 'NO') return value;
  throw invalid('response', `response must be "YES" or "NO" (got ${shown(value)})`);
}

/** An instruction and its shifting percentage (required for shifting, 0–20). */
export function checkInstruction(
  instruction: unknown,
  shiftingPercentage: unknown,
): { instruction: Instruction; shiftingPercentage: number | null } {
  if (!(INSTRUCTIONS as readonly unknown[]).includes(instruction))
    throw invalid('instruction', `instruction must be one of ${INSTRUCTIONS.join(', ')} (got ${shown(instruction)})`);
  if (instruction !== 'shifting') {
    if (shiftingPercentage !== undefined && shiftingPercentage !== null)
      throw invalid('shifting_percentage', `shifting_percentage is for the shifting instruction only`);
    return { instruction: instruction as Instruction, shiftingPercentage: null };
  }
  if (
    typeof shiftingPercentage !== 'number' ||
    !Number.isFinite(shiftingPercentage) ||
    shiftingPercentage < 0 ||
    shiftingPercentage > MAX_SHIFTING_PERCENTAGE
  )
    throw invalid(
      'shifting_percentage',
      `shifting_percentage must be a number from 0 to ${MAX_SHIFTING_PERCENTAGE} for shifting (got ${shown(shiftingPercentage)})`,
    );
  return { instruction: 'shifting', shiftingPercentage };
}
