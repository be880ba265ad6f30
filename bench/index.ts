/**
 * Runs the benchmarks in order: `npm run bench`, or `npm run bench -- --only ingest-query`
 * (`ingest-query`, `clustering`, `dump`, `large-body`, `sensorlog-parse`, `abuse-reads`, `compaction`,
 * `subscribe`, `overload`, `energy`, `buildings`, `dashboard`, `devices`, `files`, `influx`, `scale`,
 * `persistors`).
 * `persistors` always runs on the server stack (PostgreSQL + NATS, at the URLs below): one, then two
 * `persist` processes drain readings waiting in JetStream (`BENCH_PERSISTORS_ROWS`, default 1,000,000).
 * `scale` generates its datasets straight into the store and keeps them in the temp directory (see bench/scale.ts).
 * `influx` (also `npm run bench:influx`) installs InfluxDB 1.6 from Debian's package when absent (root).
 * `--store duckdb|postgres` and `--bus in-process|nats` pick a stack to compare with the embedded
 * one (DuckDB, in-process bus): when either names the server stack, the ingest and dump benchmarks
 * run on both and print them side by side (`npm run bench -- --store postgres --bus nats`). PostgreSQL is
 * `postgres://postgres@127.0.0.1:5432/test` unless `BENCH_DATABASE_URL` says otherwise, NATS
 * `nats://127.0.0.1:4222` unless `BENCH_BUS_URL` does; each server gets its own schema and streams,
 * removed afterwards.
 * `--server-cpu-prof <dir>` runs the server of the ingest benchmark's 1-client run (of each stack),
 * and the files benchmark's server, under `--cpu-prof` and leaves its `.cpuprofile` in `<dir>` (open
 * it in Chrome DevTools).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUSES, EMBEDDED, STORES, type BusKind, type Stack, type StoreKind } from './lib/server-stack.js';

interface BenchmarkOptions {
  serverCpuProfDir?: string;
  stack: Stack;
}

const benchmarks: Record<string, (options: BenchmarkOptions) => Promise<void>> = {
  'ingest-query': async (options) => (await import('./ingest-query.js')).run(options),
  clustering: async () => (await import('./clustering.js')).run(),
  dump: async (options) => (await import('./dump.js')).run(options),
  'large-body': async (options) => (await import('./large-body.js')).run(options),
  'sensorlog-parse': async () => (await import('./sensorlog-parse.js')).run(),
  'abuse-reads': async () => (await import('./abuse-reads.js')).run(),
  compaction: async () => (await import('./compaction.js')).run(),
  subscribe: async () => (await import('./subscribe.js')).run(),
  overload: async () => (await import('./overload.js')).run(),
  energy: async (options) => (await import('./energy.js')).run(options),
  buildings: async (options) => (await import('./buildings.js')).run(options),
  dashboard: async (options) => (await import('./dashboard.js')).run(options),
  devices: async (options) => (await import('./devices.js')).run(options),
  files: async (options) => (await import('./files.js')).run(options),
  influx: async (options) => (await import('./influx.js')).run(options),
  scale: async (options) => (await import('./scale.js')).run(options),
  persistors: async () => (await import('./persistors.js')).run(),
};

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    'server-cpu-prof': { type: 'string' },
    store: { type: 'string', default: EMBEDDED.store },
    bus: { type: 'string', default: EMBEDDED.bus },
  },
});

const names = values.only ? [values.only] : Object.keys(benchmarks);
const unknown = names.filter((name) => !benchmarks[name]);
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; expected one of ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}
if (!(STORES as readonly string[]).includes(values.store)) {
  console.error(`--store must be one of ${STORES.join(', ')} (got "${values.store}")`);
  process.exit(2);
}
if (!(BUSES as readonly string[]).includes(values.bus)) {
  console.error(`--bus must be one of ${BUSES.join(', ')} (got "${values.bus}")`);
  process.exit(2);
}

const serverCpuProfDir = values['server-cpu-prof'] ? path.resolve(values['server-cpu-prof']) : undefined;
const stack: Stack = { store: values.store as StoreKind, bus: values.bus as BusKind };
for (const name of names) {
  console.log(`\n== ${name} ==`);
  await benchmarks[name]({ serverCpuProfDir, stack });
}
