import { z } from 'zod';
import { int } from '../../core/settings.js';

/** The pull sources' settings: HTTP behaviour towards every upstream, then one area per upstream. */
export const settings = z.object({
  sources: z
    .object({
      timeoutMs: int(30_000, 100, 600_000, 'Upstream request timeout; a timed-out request is retried.'),
      retries: int(
        5,
        0,
        100,
        'Retries of a failed upstream request (timeouts, 5xx, 429, unreachable host) with exponential backoff and jitter; then the chunk fails and is tried again next time. `wattline process` does not retry an unreachable host.',
      ),
      retryBaseMs: int(
        1000,
        1,
        600_000,
        'First retry delay; each retry doubles it (a 429 waits at least its Retry-After).',
      ),
      minIntervalMs: int(200, 0, 600_000, 'Least time between two requests to the same upstream (its rate limit).'),
    })
    .prefault({}),
  octopus: z
    .object({
      url: z
        .url({ error: 'expected http(s)://…' })
        .default('https://api.octopus.energy')
        .describe('Octopus Energy API base URL.'),
      apiKey: z
        .string()
        .optional()
        .describe(
          'Octopus API key (sent as the basic-auth user) for meter consumption; unset: the consumption connector is off.',
        ),
      product: z
        .string()
        .optional()
        .describe('Octopus product code, e.g. AGILE-FLEX-22-11-25; with the tariff, turns the tariff connector on.'),
      tariff: z.string().optional().describe('Octopus tariff code, e.g. E-1R-AGILE-FLEX-22-11-25-C.'),
      mpan: z.string().optional().describe('Electricity meter point (MPAN) for consumption.'),
      serial: z.string().optional().describe('Electricity meter serial number for consumption.'),
      bootstrapDays: int(
        30,
        0,
        3650,
        'Days of tariff and consumption history kept filled: fetched at start where missing, an outage healed back to its last stored reading.',
      ),
      pollMs: int(1_800_000, 1000, 86_400_000, 'How often the Octopus connectors fetch recent data.'),
    })
    .prefault({}),
  carbon: z
    .object({
      url: z
        .string()
        .refine((s) => s === '' || (/^https?:\/\//.test(s) && URL.canParse(s)), {
          error: 'expected the Carbon Intensity API base URL, http(s)://…, or empty to turn the carbon connectors off',
        })
        .default('https://api.carbonintensity.org.uk')
        .describe(
          'Base URL of the GB Carbon Intensity API (`/intensity/{from}/{to}`, `/generation/{from}/{to}`), read by the `carbon-intensity` and `generation-mix` connectors; empty: both are off.',
        ),
      bootstrapDays: int(
        30,
        0,
        3650,
        'Days of carbon intensity and generation mix history kept filled: fetched at start where missing, an outage healed back to its last stored reading (0: only the last 24 hours; `wattline bootstrap` fetches any range).',
      ),
      pollMs: int(
        30 * 60_000,
        60_000,
        86_400_000,
        'How often the carbon intensity and generation mix connectors fetch the last 24 hours again (new half-hours, and actuals that were still null).',
      ),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;

/** Settings that moved: `carbonUrl` became `carbon.url` (the variable `WATTLINE_CARBON_URL` is unchanged). */
export const renamed = { carbonUrl: 'carbon.url' } as const;
