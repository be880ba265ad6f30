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
      maxLineBytes: int(
        4096,
        64,
        1024 * 1024,
        'Longest sensor-log line in UTF-8 bytes (the recorded events are at most 539); a longer line is refused with 400 naming it, unread, and `/log/store` keeps the other lines.',
      ),
      maxBodyBytes: int(
        16 * 1024 * 1024,
        1024,
        1024 * 1024 * 1024,
        'Largest `/log/parse` and `/log/store` body in bytes; a larger one is refused with 413.',
      ),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;

/** Settings that moved: `WATTLINE_CLUSTER_EVERY` became `WATTLINE_SENSORLOG_CLUSTER_EVERY` (the old name still works). */
export const renamed = { clusterEvery: 'sensorlog.clusterEvery' } as const;
