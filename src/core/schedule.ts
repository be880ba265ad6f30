import type { Logger } from './log.js';
import type { Stop } from './module.js';

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Runs `tick` now (or after `firstInMs`) and then every `everyMs` after the previous run ends (runs
 * never overlap); a failing run is logged as `what` and the next one runs on time. Stopping waits
 * for a run in progress.
 */
export function every(everyMs: number, what: string, tick: () => Promise<unknown>, log: Logger, firstInMs = 0): Stop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  // setTimeout clamps delays past 2^31 − 1 ms (24.8 days) to 1 ms: a longer wait is chained
  const wait = (ms: number) => {
    const step = Math.min(ms, MAX_TIMEOUT_MS);
    timer = setTimeout(() => (ms > step ? wait(ms - step) : run()), step);
  };
  const run = () => {
    running = tick()
      .then(
        () => undefined,
        (err) => log.error({ err }, `${what} failed`),
      )
      .finally(() => {
        running = undefined;
        if (!stopped) wait(everyMs);
      });
  };
  if (firstInMs > 0) wait(firstInMs);
  else run();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
