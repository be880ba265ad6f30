import { z } from 'zod';
import { flag, int } from '../../core/settings.js';

/** The sensor-log module's settings. */
export const settings = z.object({
  sensorlog: z
    .object({
      open: flag(
        false,
        'Let `/log/store` take events without a key, as the original energy-sensors clients send none.',
      ),
      clusterEvery: int(
        1000,
        1,
        100_000_000,
        'Stored sensor events between two clustering runs (MeanShift over every event, in a worker thread).',
      ),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;

/** Settings that moved: `WATTLINE_CLUSTER_EVERY` became `WATTLINE_SENSORLOG_CLUSTER_EVERY` (the old name still works). */
export const renamed = { clusterEvery: 'sensorlog.clusterEvery' } as const;
