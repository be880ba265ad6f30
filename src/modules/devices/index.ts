import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule, type ModuleContext } from '../../core/module.js';
import type { BuildingsService } from '../buildings/index.js';
import type { ReadingsService } from '../readings/index.js';
import { emoncmsRoutes } from './emoncms.js';
import { createPolling } from './poll/index.js';
import { startMqttSubscriber } from './mqtt.js';
import { type Settings, settings } from './settings.js';
import { createDeviceSink } from './sink.js';

export interface DevicesDeps {
  readings: ReadingsService;
  buildings: BuildingsService;
  now: () => number;
}

/**
 * Devices as they are (README "Connect your devices"): an MQTT subscriber for Tasmota, Shelly
 * Gen1/Gen2, Zigbee2MQTT, emonhub and Wattline's JSON (role `ingest`), polled devices (role
 * `jobs`) and the Emoncms input API. Each reported quantity becomes a series
 * `<prefix>/<device>/<quantity>` with its unit and kind, and a sensor of the buildings module;
 * every adapter writes through the sink (sink.ts), which is acknowledged only once readings are committed.
 */
export const devicesModule = defineModule({
  name: 'devices',
  settings,
  migrations: path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations'),
  create(ctx: ModuleContext<Settings>, deps: DevicesDeps) {
    const { store, bus, log } = ctx;
    const sink = createDeviceSink({ bus, store, buildings: deps.buildings, log, now: deps.now });
    const polling = createPolling(ctx, sink, deps.now);
    return {
      service: { sink },
      roles: {
        jobs: polling.jobs, // polled devices
        api: polling.api, // GET/POST/DELETE /api/v1/devices
        ingest: {
          routes: emoncmsRoutes({ sink, now: deps.now }), // the Emoncms input API
          start: () =>
            startMqttSubscriber({ ...ctx, settings: ctx.settings.mqtt, zone: ctx.core.timezone, sink, now: deps.now }),
        },
      },
    };
  },
});
