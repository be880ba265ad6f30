import type { Logger } from './log.js';
import type { Stop } from './module.js';

/**
 * Runs `tick` now (or after `firstInMs`) and then every `everyMs` after the previous run ends (runs
 * never overlap); a failing run is logged as `what` and the next one runs on time. Stopping waits
 * for a run in progress.
 */
export function every(everyMs: number, what: string, tick: () => Promise<unknown>, log: Logger, firstInMs = 0): Stop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = () => {
    running = tick()
      .then(
        () => undefined,
        (err) => log.error({ err }, `${what} failed`),
      )
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(run, everyMs);
      });
  };
  if (firstInMs > 0) timer = setTimeout(run, firstInMs);
  else run();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
