/**
 * Runs the benchmarks in order: `npm run bench`, or `npm run bench -- --only ingest-query`.
 * `--server-cpu-prof <dir>` runs the server of the ingest benchmark's 1-client run under
 * `--cpu-prof` and leaves its `.cpuprofile` in `<dir>` (open it in Chrome DevTools).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';

const benchmarks: Record<string, (options: { serverCpuProfDir?: string }) => Promise<void>> = {
  'ingest-query': async (options) => (await import('./ingest-query.js')).run(options),
};

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    'server-cpu-prof': { type: 'string' },
  },
});

const names = values.only ? [values.only] : Object.keys(benchmarks);
const unknown = names.filter((name) => !benchmarks[name]);
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; expected one of ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}

const serverCpuProfDir = values['server-cpu-prof'] ? path.resolve(values['server-cpu-prof']) : undefined;
for (const name of names) {
  console.log(`\n== ${name} ==`);
  await benchmarks[name]({ serverCpuProfDir });
}
