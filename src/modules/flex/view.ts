import { formatTime } from '../../core/time/buckets.js';
import type { DeviceSetting, FlexEvent, Instruction } from './repository.js';

/** The API's snake_case shapes; times ISO 8601 with the building zone's offset. */

/** An invitation as the seed answered it, with Wattline's `status` and `answered_at` beside. */
export function invitationJson(event: FlexEvent, zone: string) {
  return {
    event_id: event.eventId,
    datetime: formatTime(event.createdAt, zone),
    event_time: formatTime(event.eventTime, zone),
    end_time: formatTime(event.eventTime + event.durationMinutes * 60_000, zone),
    load_kwh: event.loadKwh,
    load_percentage: event.loadPercentage,
    iots: event.devices,
    duration_minutes: event.durationMinutes,
    response: event.response,
    status: event.status,
    answered_at: event.answeredAt === null ? null : formatTime(event.answeredAt, zone),
    updated_at: formatTime(event.updatedAt, zone),
  };
}

export type InvitationJson = ReturnType<typeof invitationJson>;

/** A device never set is off: demand response disabled, instruction participation. */
export function settingOf(sensorId: string, setting: DeviceSetting | undefined): DeviceSetting {
  return setting ?? { sensorId, enabled: false, instruction: 'participation', shiftingPercentage: null, updatedAt: 0 };
}

/**
 * The share of its load a device sheds (0–1): participation all of it, shifting its percentage,
 * off or demand response disabled none.
 */
export function shareOf(setting: DeviceSetting): number {
  if (!setting.enabled) return 0;
  return shareByInstruction(setting.instruction, setting.shiftingPercentage);
}

function shareByInstruction(instruction: Instruction, shiftingPercentage: number | null): number {
  if (instruction === 'participation') return 1;
  if (instruction === 'shifting') return (shiftingPercentage ?? 0) / 100;
  return 0;
}

export function deviceJson(setting: DeviceSetting) {
  return {
    iot: setting.sensorId,
    demandresponse: setting.enabled,
    instruction: setting.instruction,
    shifting_percentage: setting.shiftingPercentage,
    share: shareOf(setting),
  };
}
