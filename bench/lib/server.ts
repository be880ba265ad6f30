/**
 * A Wattline server in its own process for benchmarks, so the client's event loop never shares a
 * core with the server's. Usage: `node --import tsx bench/lib/server.ts <data dir>`.
 * Prints one JSON line `{"url","grpcUrl","key"}` on stdout once listening, then takes commands on stdin:
 * `compact` (answers `compacted` when every due partition is rewritten) and `close`; a closed stdin
 * (the parent went away) also closes the server. Logs go to stderr.
 */
import readline from 'node:readline';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { startWattline } from '../../src/main.js';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: node --import tsx bench/lib/server.ts <data dir>\n');
  process.exit(2);
}

const app = await startWattline(
  loadConfig({
    env: process.env,
    overrides: { dataDir, httpPort: 0, logLevel: 'warn', 'carbon.url': process.env.WATTLINE_CARBON_URL ?? '' },
  }),
  { logDestination: pino.destination(2) },
);
const key = app.ctx.keys.generatedKey?.key;
process.stdout.write(JSON.stringify({ url: app.url, grpcUrl: app.grpcUrl, key }) + '\n');

for await (const command of readline.createInterface({ input: process.stdin })) {
  if (command === 'compact') {
    await app.readings.compactNow();
    process.stdout.write('compacted\n');
  } else if (command === 'close') {
    break;
  } else {
    process.stderr.write(`unknown command ${JSON.stringify(command)}; expected compact or close\n`);
  }
}
await app.close();
// exit explicitly (DuckDB and pino may hold handles), which also writes a --cpu-prof profile
process.exit(0);
