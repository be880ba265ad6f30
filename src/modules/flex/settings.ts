import { DateTime } from 'luxon';
import { z } from 'zod';
import { flag, int, listOf } from '../../core/settings.js';

/** What an invitation still waiting for an answer becomes when its event starts. */
export const UNANSWERED_AT_START = ['NO', 'YES'] as const;

const localDate = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && DateTime.fromISO(s).isValid, {
  error: 'expected a local date YYYY-MM-DD',
});

/** Local dates: a list in YAML, JSON text in the environment (`["2024-12-25","2024-12-26"]`). */
const dateList = listOf(localDate);

/** The flex (demand response) module's settings. */
export const settings = z.object({
  flex: z
    .object({
      unansweredAtStart: z
        .enum(UNANSWERED_AT_START, { error: 'expected NO or YES' })
        .default('NO')
        .describe(
          'The answer an invitation still `WAITING` gets when its event starts (the seed: `NO`, the building does not take part).',
        ),
      schedulerMs: int(
        60_000,
        10,
        3_600_000,
        'How often the jobs role moves events on from the clock: `scheduled` → `active` at `event_time`, `active` → `completed` at its end. An event starts at most this late.',
      ),
      autoAnswerMs: int(
        30_000,
        10,
        3_600_000,
        'How often the jobs role answers `YES` to invitations still `WAITING` while auto-answer is on (`POST /api/v1/demand-response/invitation/auto`).',
      ),
      rewardPerKwh: z.coerce
        .number({ error: 'expected a number of at least 0' })
        .min(0, { error: 'expected a number of at least 0' })
        .default(0)
        .describe(
          "An event's benefit per kWh delivered (the aggregator's currency, e.g. GBP): `benefit` in the event report and `POST /dr/benefit`. 0: no benefit is counted.",
        ),
      sameDayAdjustment: flag(
        false,
        "Scale the BL01 baseline by actual ÷ baseline over the 3 hours ending 1 hour before the event (GB settlement's same-day adjustment). Off: the unadjusted baseline.",
      ),
      holidays: dateList
        .default([])
        .describe(
          'Local dates (YYYY-MM-DD in the core `timezone`) counted as holidays for baselines, like weekends: a list in YAML, JSON text in the environment.',
        ),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;
