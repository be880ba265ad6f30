/**
 * A Wattline server in its own process for benchmarks, so the client's event loop never shares a
 * core with the server's. Usage: `node --import tsx bench/lib/server.ts <data dir> [roles]`, `roles`
 * comma-separated as `wattline serve --roles` takes them (default: all).
 * Prints one JSON line `{"url","grpcUrl","key"}` on stdout once listening (`key`: the admin key it
 * generated, or with `WATTLINE_API_KEYS` set the first configured one), then takes commands on stdin:
 * `compact` (answers `compacted` when every due partition is rewritten) and `close`; a closed stdin
 * (the parent went away) also closes the server. Logs go to stderr.
 */
import readline from 'node:readline';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { ROLES, type Role } from '../../src/core/module.js';
import { startWattline } from '../../src/main.js';

const [dataDir, rolesArg] = process.argv.slice(2);
const roles = rolesArg?.split(',').map((r) => r.trim()) as Role[] | undefined;
if (!dataDir || roles?.some((r) => !(ROLES as readonly string[]).includes(r))) {
  process.stderr.write(`usage: node --import tsx bench/lib/server.ts <data dir> [${ROLES.join(',')}]\n`);
  process.exit(2);
}

const config = loadConfig({
  env: process.env,
  overrides: { dataDir, httpPort: 0, logLevel: 'warn', 'carbon.url': process.env.WATTLINE_CARBON_URL ?? '' },
});
const app = await startWattline(config, { roles, logDestination: pino.destination(2) });
const key = app.ctx.keys.generatedKey?.key ?? config.apiKeys[0]?.key;
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
