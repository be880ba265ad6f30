import type { DeviceReading } from '../format.js';
import { expectObject, isObject } from '../formats/common.js';
import { componentReadings } from '../formats/shelly-gen2.js';
import { unixSeconds } from './quantity.js';

/**
 * A Shelly Gen2+ `GET /rpc/Shelly.GetStatus`: the same components as a `NotifyFullStatus`'s params,
 * so read by the format's componentReadings (`switch0/power`, `em0/power_l1`, `em0/energy`…).
 * Readings are at `sys.unixtime` (UTC); at the poll's time when the device has no clock yet.
 */
export function readShellyGen2Status(device: string, answer: unknown, polledMs: number): DeviceReading[] {
  const status = expectObject(answer, 'a Shelly Gen2 Shelly.GetStatus answer');
  const sys = isObject(status.sys) ? status.sys : {};
  return componentReadings(device, status, unixSeconds(sys.unixtime) ?? polledMs);
}
