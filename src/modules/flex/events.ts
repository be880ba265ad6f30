import type { Bus } from '../../core/bus/index.js';
import type { InvitationJson } from './view.js';

/**
 * The seed's `dr_events` topic: a broadcast (live fan-out, nothing stored), like buildings'
 * `sensor_events`. The buildings module's WebSocket forwards every message on it to its clients.
 */
export const DR_EVENTS = 'dr_events';

/** What happened to an event. */
export type DrChange = 'created' | 'answered' | 'active' | 'completed' | 'cancelled';

/** On `dr_events`: an invitation was sent, answered, or its event started, ended or was cancelled. */
export interface DrEventMessage {
  type: 'dr_event';
  change: DrChange;
  event_id: string;
  /** The event after the change. */
  event: InvitationJson;
  /** ISO 8601 UTC: when the change was made (the injected clock). */
  at: string;
}

/**
 * On `dr_events`: a device is told to shed `share` (0–1) of its load from now (`state: 'start'`:
 * its event became active with answer YES, or was answered YES while active) or to stop
 * (`state: 'stop'`, share 0: the event completed, was cancelled or answered NO). Wattline itself
 * switches nothing; a device integration may act on it.
 */
export interface DrDeviceMessage {
  type: 'dr_device';
  state: 'start' | 'stop';
  event_id: string;
  sensor_id: string;
  instruction: string;
  share: number;
  /** ISO 8601 of the event's end. */
  until: string;
  at: string;
}

export type DrMessage = DrEventMessage | DrDeviceMessage;

export function emitDr(bus: Bus, message: DrMessage): void {
  bus.broadcast<DrMessage>(DR_EVENTS, message);
}
