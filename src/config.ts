import type { z } from 'zod';
import { renamed as coreRenamed, coreSettings } from './core/config.js';
import {
  composeSettings,
  type LoadConfigOptions,
  listSettings as listSettingsOf,
  loadSettings,
  type RenamedSettings,
  type SettingDoc,
} from './core/settings.js';
import { settings as buildings } from './modules/buildings/settings.js';
import { settings as devices } from './modules/devices/settings.js';
import { settings as dumps } from './modules/dumps/settings.js';
import { settings as edgecom } from './modules/edgecom/settings.js';
import { settings as files } from './modules/files/settings.js';
import { settings as flex } from './modules/flex/settings.js';
import { settings as ingest } from './modules/ingest/settings.js';
import { settings as readings } from './modules/readings/settings.js';
import { settings as readingsGrpc } from './modules/readings-grpc/settings.js';
import { renamed as sensorlogRenamed, settings as sensorlog } from './modules/sensorlog/settings.js';
import { renamed as sourcesRenamed, settings as sources } from './modules/sources/settings.js';

/**
 * Every setting Wattline reads: core's, then each module's own (its `settings.ts`), one schema.
 * A module added here is a line; two modules claiming one area stop start-up.
 */
const parts = [
  { owner: 'core', schema: coreSettings },
  { owner: 'readings', schema: readings },
  { owner: 'readings-grpc', schema: readingsGrpc },
  { owner: 'ingest', schema: ingest },
  { owner: 'edgecom', schema: edgecom },
  { owner: 'sources', schema: sources },
  { owner: 'sensorlog', schema: sensorlog },
  { owner: 'dumps', schema: dumps },
  { owner: 'buildings', schema: buildings },
  { owner: 'devices', schema: devices },
  { owner: 'flex', schema: flex },
  { owner: 'files', schema: files },
];

type Shape = typeof coreSettings.shape &
  typeof readings.shape &
  typeof readingsGrpc.shape &
  typeof ingest.shape &
  typeof edgecom.shape &
  typeof sources.shape &
  typeof sensorlog.shape &
  typeof dumps.shape &
  typeof buildings.shape &
  typeof devices.shape &
  typeof flex.shape &
  typeof files.shape;

export const configSchema = composeSettings<Shape>(parts);
export type Config = Readonly<z.output<typeof configSchema>>;

const renamed: RenamedSettings = { ...coreRenamed, ...sourcesRenamed, ...sensorlogRenamed };

/** Reads YAML (optional) and the environment once, validates, and returns a frozen config. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  return loadSettings(configSchema, renamed, options);
}

/** Every leaf setting with its variable, old names, default and description, in schema order. */
export function listSettings(): SettingDoc[] {
  return listSettingsOf(configSchema, renamed);
}

export { ConfigError } from './core/settings.js';
