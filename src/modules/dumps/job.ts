import type { Logger } from '../../core/log.js';
import type { Dumper, DumpRequest } from './dumper.js';
import { daysDue, nextRunAt } from './schedule.js';

export interface DailyDumpSettings extends Omit<DumpRequest, 'days' | 'scheduled'> {
  hour: number;
  catchUpDays: number;
}

/**
 * The daily dump: at `hour` in the zone, every finished day since the last scheduled dump (yesterday,
 * after a normal night). At start it catches up on days missed while stopped — but only once a
 * first scheduled dump exists, so a new installation does not dump days from before it existed.
 */
export function startDailyDumps(
  dumper: Dumper,
  settings: DailyDumpSettings,
  log: Logger,
  now: () => number = Date.now,
) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function run(onlyCatchUp: boolean) {
    const last = await dumper.lastScheduled(settings.format);
    if (onlyCatchUp && last === undefined) return;
    const days = daysDue(last, now(), settings.hour, settings.zone, settings.catchUpDays);
    // one day at a time, so a stop between days leaves the finished ones noted
    for (const day of days) {
      if (stopped) return;
      await dumper.dump({ ...settings, days: [day], scheduled: true });
    }
  }

  function runAndSchedule(onlyCatchUp: boolean) {
    running = run(onlyCatchUp).catch((err: unknown) =>
      log.error({ err }, 'daily dump failed; the next run tries the missed days again'),
    );
    void running.then(schedule);
  }

  function schedule() {
    if (stopped) return;
    const at = nextRunAt(now(), settings.hour, settings.zone);
    timer = setTimeout(() => runAndSchedule(false), at - now());
    log.info(
      { next: new Date(at).toISOString(), zone: settings.zone, format: settings.format },
      'daily dump scheduled',
    );
  }

  runAndSchedule(true);
  return {
    /** Resolves when no dump is running (the first catch-up included). */
    idle: () => running,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
