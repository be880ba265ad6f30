import { z } from 'zod';

/** Octopus lists are paged: `next` is the URL of the following page, null on the last. */
const page = <T extends z.ZodType>(result: T) =>
  z.object({
    count: z.number().int().optional(),
    next: z.string().nullable(),
    previous: z.string().nullable().optional(),
    results: z.array(result),
  });

/** A price valid from `valid_from` until `valid_to` (null: open-ended), in pence. */
export const pricePage = page(
  z.object({
    value_exc_vat: z.number(),
    value_inc_vat: z.number(),
    valid_from: z.iso.datetime({ offset: true }),
    valid_to: z.iso.datetime({ offset: true }).nullable(),
  }),
);

/** Half-hourly meter consumption in kWh. */
export const consumptionPage = page(
  z.object({
    consumption: z.number(),
    interval_start: z.iso.datetime({ offset: true }),
    interval_end: z.iso.datetime({ offset: true }),
  }),
);
