import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const resultsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** `712,000 rows/s`: throughput rounded to the thousand. */
export function formatRowsPerSecond(rowsPerS: number): string {
  return `${(Math.round(rowsPerS / 1000) * 1000).toLocaleString('en-US')} rows/s`;
}

export function formatMs(ms: number): string {
  return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/** Prints rows as a left-aligned text table under a header line. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join(' | ')
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows) console.log(line(row));
}

/** The machine a result was measured on, so results from different machines are not compared blindly. */
export function describeMachine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
  };
}

/** Writes `bench/results/<name>-<ISO time>.json` and `bench/results/latest-<name>.json`; returns the first path. */
export function writeResults(name: string, startedAt: Date, results: unknown): string {
  fs.mkdirSync(resultsDir, { recursive: true });
  const text = JSON.stringify(results, null, 2) + '\n';
  // ':' is not allowed in Windows file names
  const file = path.join(resultsDir, `${name}-${startedAt.toISOString().replace(/:/g, '-')}.json`);
  fs.writeFileSync(file, text);
  fs.writeFileSync(path.join(resultsDir, `latest-${name}.json`), text);
  return file;
}
