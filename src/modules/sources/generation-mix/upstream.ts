import { z } from 'zod';
import { apiTime } from '../carbon-intensity/upstream.js';

/**
 * `GET /generation/{from}/{to}` → `{"data":[{"from","to","generationmix":[{"fuel":"gas","perc":43.6},…]}]}`
 * (fuels biomass, coal, imports, gas, nuclear, other, hydro, solar, wind; a new fuel name is accepted).
 */
export const generationReply = z.object({
  data: z.array(
    z.object({
      from: apiTime,
      to: apiTime,
      generationmix: z.array(
        z.object({
          // it becomes part of a series key
          fuel: z
            .string()
            .regex(/^[a-z][a-z0-9_-]{0,40}$/, { error: 'expected a lower-case fuel name such as gas or wind' }),
          perc: z.number(),
        }),
      ),
    }),
  ),
});
