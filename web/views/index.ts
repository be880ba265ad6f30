import type { View } from '../view.js';
import { cost } from './cost.js';
import { devices } from './devices.js';
import { flex } from './flex.js';
import { health } from './health.js';
import { overview } from './overview.js';
import { power } from './power.js';
import { rooms } from './rooms.js';

/** Every view, in navigation order: a new view adds its line here. The first is the default. */
export const views: View[] = [
  overview, // energy, cost and carbon totals, power now, the period's bars
  power,
  cost,
  rooms,
  health,
  devices, // the device registry: availability, sensors' latest values, polling health
  flex, // demand response: invitations, events with their countdown, instructions, flexibility, delivered kWh
];
