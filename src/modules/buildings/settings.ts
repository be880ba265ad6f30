import { z } from 'zod';
import { int } from '../../core/settings.js';

/** The buildings module's settings: sensors, rooms, room metrics and the live WebSocket. */
export const settings = z.object({
  buildings: z
    .object({
      offlineAfterMs: int(
        900_000,
        1000,
        30 * 86_400_000,
        'A sensor is `online` while its last reading is at most this old, `offline` after, `never` before its first.',
      ),
      roomMetricsMs: int(
        300_000,
        1000,
        86_400_000,
        'How often the jobs role computes room metrics (power now, energy today, temperature, humidity, CO2, occupancy) and stores them as `rooms/<name>/…` readings.',
      ),
      wsMaxQueued: int(
        1000,
        1,
        1_000_000,
        'Messages a live WebSocket client may fall behind by; a client further behind is closed with code 1013 rather than buffered.',
      ),
      summaryKeepMs: int(
        600_000,
        0,
        86_400_000,
        "How long `/api/v1/analytics/summary` keeps each sensor's energy and peak power of a finished 15-minute slot (for periods up to 48 hours) before reading it again; commit notices drop it sooner when readings change it. 0 keeps nothing.",
      ),
      wsPingMs: int(
        30_000,
        1000,
        3_600_000,
        'How often idle WebSocket connections are pinged; one that does not answer by the next ping is closed.',
      ),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;
