/**
 * The sensor-log parser on hostile lines (issue #11, point 5): `a a a … a!` of 50, 100 and 200 KB —
 * words that could each start a section name, and no `:` — plus the same after a section and as a run
 * of digits. Prints the CPU time per KB of `parseSensorLog` with no line limit (the parser's own work; the
 * endpoints refuse such lines unread at `sensorlog.maxLineBytes`), and beside it the regex the parser
 * used before, which was retried at every word. Sets exit code 1 when the parser's time per KB at
 * 200 KB is more than 2.5 times that at 50 KB (linear work keeps it flat; quadratic work quadruples it).
 */
import { parseSensorLog } from '../src/modules/sensorlog/parser.js';
import { describeMachine, median, printTable, writeResults } from './lib/report.js';

const SIZES_KB = [50, 100, 200];
const RUNS = 9;
const MAX_GROWTH = 2.5;

// parser.ts's first-section regex up to issue #11
const OLD_FIRST_HEADER = /(?<![A-Za-z0-9_])([A-Za-z][A-Za-z0-9_]*(?: [A-Za-z0-9_]+)*):/;

const shapes: { name: string; line: (kb: number) => string; before: boolean }[] = [
  { name: 'words, no ":"', line: (kb) => `a${' a'.repeat((kb * 1000) / 2)}!`, before: true },
  { name: 'words in a section', line: (kb) => `Peaks: 1; a${' a'.repeat((kb * 1000) / 2)}!`, before: false },
  { name: 'digits in a section', line: (kb) => `Peaks: ${'1'.repeat(kb * 1000)}x`, before: false },
];

/** CPU milliseconds of `fn` (user + system): wall time on a shared machine says more about the neighbours. */
function cpuMs(fn: () => void): number {
  const started = process.cpuUsage();
  fn();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

function parse(line: string) {
  try {
    parseSensorLog(line);
  } catch {
    // a refused line is an answer too
  }
}

export async function run(): Promise<void> {
  const startedAt = new Date();
  const rows: { workload: string; kb: number; beforeMsPerKb?: number; afterMsPerKb: number }[] = [];
  let superlinear = false;
  for (const shape of shapes) {
    // V8 first runs a regex in its bytecode interpreter and compiles it after: warm both up on 1 KB
    for (let i = 0; i < 5; i++) {
      const small = shape.line(1);
      if (shape.before) OLD_FIRST_HEADER.exec(small);
      parse(small);
    }
    const perKb: number[] = [];
    for (const kb of SIZES_KB) {
      const line = shape.line(kb);
      // a sample parses about 2 MB, enough CPU time to measure
      const repeats = Math.ceil(2000 / kb);
      const after =
        median(
          Array.from({ length: RUNS }, () =>
            cpuMs(() => {
              for (let i = 0; i < repeats; i++) parse(line);
            }),
          ),
        ) / repeats;
      // the old regex is slow enough that one run says it
      const before = shape.before ? cpuMs(() => OLD_FIRST_HEADER.exec(line)) : undefined;
      perKb.push(after / kb);
      rows.push({
        workload: `${shape.name}, ${kb} KB line`,
        kb,
        beforeMsPerKb: before === undefined ? undefined : before / kb,
        afterMsPerKb: after / kb,
      });
    }
    const growth = perKb[perKb.length - 1] / perKb[0];
    if (growth > MAX_GROWTH) {
      superlinear = true;
      console.error(
        `${shape.name}: time per KB grew ${growth.toFixed(1)}× from ${SIZES_KB[0]} to ${SIZES_KB.at(-1)} KB (limit ${MAX_GROWTH}×)`,
      );
    }
  }
  const perKb = (ms: number | undefined) => (ms === undefined ? '–' : `${(ms * 1000).toFixed(ms < 0.1 ? 1 : 0)} µs/KB`);
  printTable(
    ['workload (CPU time; the parser: median of 9 samples)', 'before: the old regex', 'parseSensorLog'],
    rows.map((r) => [r.workload, perKb(r.beforeMsPerKb), perKb(r.afterMsPerKb)]),
  );
  writeResults('sensorlog-parse', startedAt, {
    benchmark: 'sensorlog-parse',
    startedAt: startedAt.toISOString(),
    machine: describeMachine(),
    maxGrowth: MAX_GROWTH,
    superlinear,
    rows,
  });
  if (superlinear) process.exitCode = 1;
}
