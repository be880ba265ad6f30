/**
 * Compaction benchmark: the time and peak memory of compacting one dirty day of N million readings
 * (`BENCH_COMPACTION_ROWS`, default 8M: 1,000 series, plus 1 % late corrections), in three setups:
 *
 * - `before`: what the code did before issue #11 point 9 (commit fd1075d): DuckDB's own memory
 *   limit (80 % of RAM), 2 threads, the whole day grouped and sorted at once (sliceRows beyond the day);
 * - `memory limit only`: the default memory limit (a quarter of RAM) and threads, the day whole;
 * - `defaults`: the default settings, the day compacted 5M rows at a time (`compaction.sliceRows`);
 * - `defaults, 1 GiB limit`: the same with `store.duckdbMemoryLimit` 1GiB, as on a small machine.
 *
 * Each runs in a fresh process (bench/lib/compaction-worker.ts) on its own data dir; after the ingest
 * its VmRSS is read every 10 ms and its kernel high-water mark (reset right before) catches a peak
 * between two reads; the growth is the peak less the RSS right before the compaction. Linux only.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { watchMemory } from './lib/process-memory.js';
import { describeMachine, formatMs, printTable, writeResults } from './lib/report.js';

const MB = 2 ** 20;
const ROWS = Number(process.env.BENCH_COMPACTION_ROWS ?? 8_000_000);
const worker = path.join(import.meta.dirname, 'lib', 'compaction-worker.ts');

interface Setup {
  name: string;
  sliceRows: number;
  /** `-`: the store's default (a quarter of RAM). */
  memoryLimit: string;
  threads: number;
}

const setups: Setup[] = [
  {
    name: 'before (fd1075d)',
    sliceRows: 1_000_000_000,
    memoryLimit: `${Math.floor((os.totalmem() * 0.8) / MB)}MiB`,
    threads: 2,
  },
  { name: 'memory limit only', sliceRows: 1_000_000_000, memoryLimit: '-', threads: os.availableParallelism() },
  { name: 'defaults', sliceRows: 5_000_000, memoryLimit: '-', threads: os.availableParallelism() },
  { name: 'defaults, 1 GiB limit', sliceRows: 5_000_000, memoryLimit: '1GiB', threads: os.availableParallelism() },
];

async function measure(setup: Setup) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-bench-compaction-'));
  try {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        worker,
        dataDir,
        String(ROWS),
        String(setup.sliceRows),
        setup.memoryLimit,
        String(setup.threads),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = (async function* () {
      let text = '';
      for await (const chunk of child.stdout) {
        text += chunk;
        for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n')) {
          yield text.slice(0, i);
          text = text.slice(i + 1);
        }
      }
    })();
    const first = await lines.next();
    if (first.value !== 'ingested') throw new Error(`compaction worker: expected "ingested", got ${first.value}`);
    const watch = watchMemory(child.pid!, 10);
    child.stdin.write('go\n');
    const done = await lines.next();
    const memory = watch.stop();
    if (done.done) throw new Error('compaction worker ended without a result');
    const { ms } = JSON.parse(done.value) as { ms: number };
    return { ...setup, ms, ...memory };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run() {
  const startedAt = new Date();
  console.log(`compacting a dirty day of ${ROWS.toLocaleString('en-US')} readings`);
  const results = [];
  for (const setup of setups) results.push(await measure(setup));
  printTable(
    ['setup', 'memory_limit', 'threads', 'sliceRows', 'compaction', 'RSS before', 'peak RSS', 'growth'],
    results.map((r) => [
      r.name,
      r.memoryLimit === '-' ? `${Math.floor(os.totalmem() / 4 / MB)}MiB` : r.memoryLimit,
      String(r.threads),
      r.sliceRows >= ROWS ? 'whole day' : r.sliceRows.toLocaleString('en-US'),
      formatMs(r.ms),
      `${Math.round(r.baselineBytes / MB)} MB`,
      `${Math.round(r.peakBytes / MB)} MB`,
      `${Math.round((r.peakBytes - r.baselineBytes) / MB)} MB`,
    ]),
  );
  const file = writeResults('compaction', startedAt, { rows: ROWS, machine: describeMachine(), results });
  console.log(`results: ${path.relative(process.cwd(), file)}`);
}
