import { z } from 'zod';
import { int } from '../../core/settings.js';

/** The energy module's settings: the rules of energy arithmetic (README, "Energy arithmetic"). */
export const settings = z.object({
  energy: z
    .object({
      maxGapMs: int(
        3_600_000,
        1000,
        366 * 86_400_000,
        'Longest time between two readings that energy arithmetic bridges: a power gauge is not integrated across a longer gap, and a counter puts its whole change across one into the bucket of the later reading.',
      ),
      resetTolerancePpm: int(
        1000,
        0,
        1_000_000,
        'A counter that drops by more than this many millionths of its value (default 1000: 0.1 %) was reset, and counting resumes from its new value as from zero; smaller drops are jitter and ignored.',
      ),
      maxReadings: int(
        5_000_000,
        1000,
        1_000_000_000,
        'Most readings one energy, cost or carbon request reads (about 24 bytes each in memory); more is a 400 asking for a shorter range.',
      ),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;
