/**
 * What every fuzz file shares (issue 20, point 1): how many runs a property gets, how a campaign's
 * counterexample is written as a regression case, and how those cases are found again.
 *
 * A short run is part of `npm test` (FUZZ_RUNS scales every property's runs). `npm run fuzz --
 * --minutes N` (scripts/fuzz.mjs) sets FUZZ_MINUTES to each file's share of N and
 * FUZZ_WRITE_REGRESSIONS=1: each property then runs as many times as fit in its share of the file's
 * minutes, and a counterexample (shrunk) is written to the file's regressions folder as
 * `{ property, seed, path, error, input }`. Every JSON file in that folder is replayed by the fuzz file
 * in every `npm test`; a `"todo": "bug: …"` in one marks a known bug, a `"fixed": "…"` says what fixed
 * it. Inputs must therefore be plain JSON (strings, numbers, arrays, objects).
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';

const ROOT = path.resolve(import.meta.dirname, '../..');

export const FUZZ = {
  /** Minutes of this file's campaign; 0 in `npm test`. */
  minutes: Number(process.env.FUZZ_MINUTES ?? 0),
  runsScale: Number(process.env.FUZZ_RUNS ?? 1),
  writeRegressions: process.env.FUZZ_WRITE_REGRESSIONS === '1',
  /** Timing checks (superlinear paths) are flaky on a loaded CI machine: campaigns and FUZZ_TIMING=1 only. */
  timing: Number(process.env.FUZZ_MINUTES ?? 0) > 0 || process.env.FUZZ_TIMING === '1',
};

/** Why a timing check is skipped in `npm test`. */
export const TIMING_SKIP = FUZZ.timing ? false : 'a timing check: npm run fuzz, or FUZZ_TIMING=1';

/** The best of three timings of `run` (ms), after a warm-up. */
async function fastest(run: () => unknown): Promise<number> {
  await run();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await run();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** 4× the input may take this many times as long before the time counts as superlinear. */
const SUPERLINEAR_RATIO = 12;

/**
 * Fails when `run(large)` (4× the input) takes superlinearly longer than `run(small)`: a check for
 * superlinearity, not a budget. Sub-millisecond timings are noise: compared from 1 ms up.
 */
export async function assertLinearTime(run: (input: 'small' | 'large') => unknown): Promise<void> {
  const t1 = await fastest(() => run('small'));
  const t4 = await fastest(() => run('large'));
  const ratio = t4 / Math.max(t1, 1);
  if (!(ratio < SUPERLINEAR_RATIO))
    throw new Error(`4× the input took ${ratio.toFixed(1)}× the time (${t1.toFixed(1)} → ${t4.toFixed(1)} ms)`);
}

export interface Budget {
  /** Runs in the short run (before FUZZ_RUNS scales them). */
  runs: number;
  /** How many properties share the file's campaign minutes. */
  properties: number;
  /** One run slower than this is a hang (or a superlinear path): a failure, not a slow test. */
  timeoutMs?: number;
}

export function fuzzParameters({ runs, properties, timeoutMs = 5_000 }: Budget): fc.Parameters<unknown> {
  if (FUZZ.minutes > 0) {
    const share = (FUZZ.minutes * 60_000) / Math.max(1, properties);
    return { numRuns: 1e9, interruptAfterTimeLimit: share, markInterruptAsFailure: false, timeout: timeoutMs };
  }
  return { numRuns: Math.max(1, Math.round(runs * FUZZ.runsScale)), timeout: timeoutMs };
}

export interface RegressionRecord<T = unknown> {
  property: string;
  input: T;
  error?: string;
  todo?: string;
}

/** One file's regressions folder: where a campaign writes counterexamples and `npm test` replays them. */
export class Regressions {
  constructor(readonly dir: string) {}

  /**
   * Checks `predicate` over `arbitrary` within the budget; on a failure, writes the counterexample
   * (in a campaign) and throws fast-check's report with the predicate's own message.
   */
  async check<T>(
    name: string,
    arbitrary: fc.Arbitrary<T>,
    predicate: (input: T) => void | Promise<void>,
    budget: Budget,
  ): Promise<void> {
    const details = await fc.check(
      fc.asyncProperty(arbitrary, async (input) => {
        await predicate(input);
      }),
      fuzzParameters(budget),
    );
    if (!details.failed) return;
    if (FUZZ.writeRegressions && details.counterexample) this.write(name, details);
    throw new Error(`${fc.defaultReportMessage(details) ?? `property ${name} failed`}\n${errorText(details)}`);
  }

  write(name: string, details: fc.RunDetails<unknown>): string {
    fs.mkdirSync(this.dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(this.dir, `${name.replace(/[^A-Za-z0-9_-]+/g, '_')}-${stamp}.json`);
    const [input] = details.counterexample as [unknown];
    const record = {
      property: name,
      seed: details.seed,
      path: details.counterexamplePath,
      error: errorText(details),
      input,
    };
    fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    console.error(`counterexample of "${name}" written to ${path.relative(ROOT, file)}`);
    return file;
  }

  /** Every regression case in the folder (not its subfolders), by file name. */
  records<T>(except: (file: string) => boolean = () => false): [file: string, record: RegressionRecord<T>][] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith('.json') && !except(f))
      .sort()
      .map((f) => [f, JSON.parse(fs.readFileSync(path.join(this.dir, f), 'utf8')) as RegressionRecord<T>]);
  }
}

function errorText(details: fc.RunDetails<unknown>): string {
  return details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
}
