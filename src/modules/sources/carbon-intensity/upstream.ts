import { z } from 'zod';

/** `2024-01-01T00:00Z` (seconds allowed): the API's half-hour bounds, UTC. Parsed to epoch ms. */
export const apiTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/, { error: 'expected a UTC time like 2024-01-01T00:00Z' })
  .transform((s) => Date.parse(s));

/**
 * `GET /intensity/{from}/{to}` → `{"data":[{"from","to","intensity":{"forecast":266,"actual":263,"index":"moderate"}}]}`
 * (gCO2/kWh). `actual` is null for half-hours not yet settled.
 */
export const intensityReply = z.object({
  data: z.array(
    z.object({
      from: apiTime,
      to: apiTime,
      intensity: z.object({ forecast: z.number(), actual: z.number().nullable() }),
    }),
  ),
});
