import { z } from 'zod';
import { int } from '../../core/settings.js';
import { SERIES_KEY_PATTERN } from '../../core/readings.js';

/** The edgecom module's settings: the series its gRPC service answers for, and its upstream. */
export const settings = z.object({
  edgecom: z
    .object({
      series: z
        .string()
        .regex(SERIES_KEY_PATTERN, { error: 'expected a series key: letters, digits and _ . : / -, at most 200' })
        .default('edgecom')
        .describe(
          'Series the edgecom gRPC `QueryTimeSeries` answers for; a call may name another in its `x-wattline-series` metadata.',
        ),
      url: z
        .url({ error: 'expected the full URL of the EdgeCom series, http(s)://…' })
        .optional()
        .describe('EdgeCom Energy API series URL (`GET <url>?start=…&end=…`); unset: the EdgeCom connector is off.'),
      bootstrapDays: int(
        730,
        0,
        3650,
        'Days of EdgeCom history kept filled: fetched at start where missing, an outage healed back to its last stored reading.',
      ),
      pollMs: int(300_000, 1000, 86_400_000, 'How often the EdgeCom connector fetches the latest readings.'),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;
