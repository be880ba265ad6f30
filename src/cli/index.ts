import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { apiKeyScopes } from '../core/config.js';
import { ROLES, type Role } from '../core/module.js';
import { ApiError, CliError, createClient } from './client.js';
import { ingestFile, interruptedMessage } from './commands/ingest.js';
import { registerBuildingsCommands } from './commands/buildings.js';
import { registerFilesCommands } from './commands/files.js';
import { registerBackupCommands } from './commands/backup.js';
import { type EnergyOptions, formatEnergy, runEnergy } from './commands/energy.js';
import { formatDeadLettersTable, type DeadLetterInfo } from './commands/dlq.js';
import { formatKeysTable, type KeyInfo } from './commands/keys.js';
import { formatQueryTable, formatQueryWarnings, runQuery } from './commands/query.js';
import { serve } from './commands/serve.js';

// The CLI is a composition root too: it alone hands the environment to config and client.
const env = process.env;
const { version } = JSON.parse(
  fs.readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'),
) as { version: string };
const program = new Command('wattline')
  .description('Energy telemetry: readings in, stored, queried')
  .version(version)
  .showHelpAfterError();

const clientOptions = (cmd: Command) =>
  cmd
    .option(
      '--url <url>',
      'server URL (env WATTLINE_URL)',
      env.WATTLINE_URL ?? `http://127.0.0.1:${env.WATTLINE_HTTP_PORT ?? 8080}`,
    )
    .option('--key <key>', 'API key (env WATTLINE_API_KEY; default: the key kept in the data dir)');

function clientFrom(opts: { url: string; key?: string }) {
  let key = opts.key ?? env.WATTLINE_API_KEY;
  // the key a local `wattline serve` generated, in its data dir (relative to where the CLI runs)
  const file = path.resolve(env.WATTLINE_DATA_DIR ?? './data', 'api-key');
  if (!key && fs.existsSync(file)) key = fs.readFileSync(file, 'utf8').trim();
  return createClient({ url: opts.url, key, keyLookedIn: file });
}

program
  .command('serve')
  .description('run the server (default: every role, embedded store, in-process bus)')
  .option('--config <file>', 'YAML settings file (env WATTLINE_CONFIG); the environment wins over it')
  .option('--roles <roles>', `comma-separated subset of ${ROLES.join(',')}`)
  .action(async (opts: { config?: string; roles?: string }) => {
    const roles = opts.roles?.split(',').map((r) => r.trim()) as Role[] | undefined;
    const unknown = roles?.find((r) => !(ROLES as readonly string[]).includes(r));
    if (unknown) throw new ConfigError(`--roles: unknown role "${unknown}"; roles are ${ROLES.join(', ')}`);
    await serve(loadConfig({ env, configFile: opts.config }), roles);
  });

const nonNegative = (raw: string) => {
  if (!/^\d+$/.test(raw)) throw new InvalidArgumentError('expected a whole number of lines');
  return Number(raw);
};

clientOptions(
  program
    .command('ingest <file>')
    .description(
      'send readings from an NDJSON or CSV file (gzipped or not), or - for stdin; a CSV header names the columns (series|sensor, ts|timestamp|time, value), else series,ts,value',
    )
    .option('--lines-per-request <n>', 'lines per HTTP request', '5000')
    .addOption(
      new Option('--precision <unit>', 'unit of epoch numbers in ts (default: told by their digits)').choices([
        's',
        'ms',
        'us',
        'ns',
      ]),
    )
    .option(
      '--skip <n>',
      'do not send the first n lines of the file (every line counts, blank ones and a CSV header too); Ctrl-C prints the n that resumes',
      nonNegative,
      0,
    ),
).action(
  async (
    file: string,
    opts: { url: string; key?: string; linesPerRequest: string; precision?: string; skip: number },
  ) => {
    const progress = Boolean(process.stderr.isTTY);
    // Ctrl-C: say what the server has acknowledged, so that the rest can be sent without the lines before it
    let acknowledgedThrough = opts.skip;
    const interrupted = () => {
      process.stderr.write(`${progress ? '\n' : ''}${interruptedMessage(opts.skip, acknowledgedThrough)}\n`);
      process.exit(130);
    };
    process.once('SIGINT', interrupted);
    const summary = await ingestFile(clientFrom(opts), file, {
      linesPerRequest: Math.max(1, Number(opts.linesPerRequest) || 5000),
      progress,
      precision: opts.precision,
      skip: opts.skip,
      onAcknowledged: (line) => (acknowledgedThrough = line),
    });
    process.off('SIGINT', interrupted);
    console.log(`accepted ${summary.accepted}, invalid ${summary.invalidCount}`);
    for (const bad of summary.invalid.slice(0, 20)) console.log(`  line ${bad.line}: ${bad.error}`);
    if (summary.invalidCount > 20) console.log(`  … and ${summary.invalidCount - 20} more`);
    if (summary.invalidCount > 0) process.exitCode = 1;
  },
);

clientOptions(
  program
    .command('query')
    .description('query readings; prints a table, or JSON with --json')
    .requiredOption('--series <keys>', 'series keys, comma-separated')
    .requiredOption('--start <time>', 'ISO 8601 or an epoch number (its digits say the unit, or --precision)')
    .requiredOption('--end <time>', 'ISO 8601 or an epoch number')
    .option('--precision <unit>', 's ms us ns: the unit of epoch numbers in --start and --end')
    .option('--window <w>', '1m 5m 15m 30m 1h 1d (none: raw points)')
    .option('--agg <agg>', 'min max avg sum count first last (needs --window; default avg)')
    .option('--tz <zone>', 'IANA time zone for 1d buckets')
    .option('--fill <fill>', 'null previous 0')
    .option('--json', 'print the JSON reply'),
).action(async (opts: Record<string, string | undefined> & { url: string; key?: string; json?: boolean }) => {
  const reply = await runQuery(clientFrom(opts), {
    series: opts.series,
    start: opts.start,
    end: opts.end,
    precision: opts.precision,
    window: opts.window,
    agg: opts.agg,
    tz: opts.tz,
    fill: opts.fill,
  });
  console.log(opts.json ? JSON.stringify(reply, null, 2) : formatQueryTable(reply));
  if (!opts.json) for (const line of formatQueryWarnings(reply)) console.error(line);
});

clientOptions(
  program
    .command('energy')
    .description(
      'energy per bucket of meters (counter, power gauge or interval series, by their kind), or its cost or carbon; prints a table with a total line, or JSON with --json',
    )
    .requiredOption('--series <keys>', 'series keys, comma-separated (one with --cost or --carbon)')
    .requiredOption('--start <time>', 'ISO 8601 or an epoch number (its digits say the unit, or --precision)')
    .requiredOption('--end <time>', 'ISO 8601 or an epoch number (exclusive)')
    .option('--precision <unit>', 's ms us ns: the unit of epoch numbers in --start and --end')
    .option('--window <w>', '1m 5m 15m 30m 1h 1d week month (none: one bucket for the range)')
    .option('--tz <zone>', 'IANA time zone for 1d, week and month buckets and the times printed (default UTC)')
    .option('--unit <unit>', 'Wh kWh MWh (default kWh)')
    .option('--cost <tariff>', 'price series (e.g. tariff/unit-rate/inc-vat): print the cost per bucket')
    .option('--standing <series>', 'with --cost: standing charge per day (e.g. tariff/standing-charge/inc-vat)')
    .option('--carbon <intensity>', 'gCO2/kWh series (e.g. grid/carbon-intensity/actual): print the carbon per bucket')
    .option('--json', 'print the JSON reply'),
).action(async (opts: EnergyOptions & { url: string; key?: string; json?: boolean }) => {
  const answer = await runEnergy(clientFrom(opts), opts);
  console.log(opts.json ? JSON.stringify(answer.reply, null, 2) : formatEnergy(answer));
});

clientOptions(
  program
    .command('bootstrap')
    .description('fetch a source’s history into Wattline (chunks already fetched are skipped; needs an admin key)')
    .requiredOption('--source <name>', 'the source, e.g. edgecom')
    .requiredOption('--from <time>', 'ISO 8601 date or time, or epoch ms')
    .option('--to <time>', 'end of the range (default: now)'),
).action(async (opts: { url: string; key?: string; source: string; from: string; to?: string }) => {
  const result = await clientFrom(opts).json<{ chunks: number; skipped: number; readings: number }>(
    'POST',
    `/api/v1/sources/${encodeURIComponent(opts.source)}/bootstrap`,
    { from: opts.from, to: opts.to },
  );
  console.log(`${result.readings} readings in ${result.chunks} chunks fetched; ${result.skipped} chunks already there`);
});

clientOptions(
  program
    .command('process')
    .description("compute daily energy reports: fetch each source's day, then cost and carbon (needs an admin key)")
    .option('--date <YYYY-MM-DD>', 'the (first) local day; default: today minus --backoff-days')
    .option('--to <YYYY-MM-DD>', 'the last local day (default: --date)')
    .option('--backoff-days <n>', 'without --date: how many days back from today (meter data arrives late)', '1'),
).action(async (opts: { url: string; key?: string; date?: string; to?: string; backoffDays: string }) => {
  const date = opts.date ?? new Date(Date.now() - Number(opts.backoffDays) * 86_400_000).toISOString().slice(0, 10);
  const result = await clientFrom(opts).json<{
    requested: string[];
    statuses: Record<string, { service: string; status: string; reason: string | null }[]>;
  }>('POST', '/api/v1/daily/process', { from: date, to: opts.to });
  for (const day of result.requested) {
    const s = result.statuses[day] ?? [];
    console.log(
      `${day}  ${s.map((x) => `${x.service} ${x.status}${x.reason ? ` (${x.reason})` : ''}`).join(', ') || 'queued'}`,
    );
  }
  if (
    Object.values(result.statuses)
      .flat()
      .some((s) => s.status === 'FAILED')
  )
    process.exitCode = 1;
});

clientOptions(
  program
    .command('dump')
    .description(
      'write local days of readings to the blob store (dumps.url); prints each blob written (needs an admin key)',
    )
    .requiredOption('--date <YYYY-MM-DD>', 'the (first) local day')
    .option('--to <YYYY-MM-DD>', 'the last local day (default: --date)')
    .addOption(
      new Option('--format <format>', 'file format (default: the dumps.format setting)').choices([
        'ndjson',
        'csv',
        'parquet',
      ]),
    )
    .option(
      '--series <patterns>',
      'comma-separated series patterns, * matching any run of characters (default: every series)',
    )
    .option('--tz <zone>', 'IANA time zone of the days (default: the dumps.timezone setting)'),
).action(
  async (opts: {
    url: string;
    key?: string;
    date: string;
    to?: string;
    format?: string;
    series?: string;
    tz?: string;
  }) => {
    const result = await clientFrom(opts).json<{ dumps: { date: string; url: string; rows: number; bytes: number }[] }>(
      'POST',
      '/api/v1/dumps',
      {
        date: opts.date,
        to: opts.to,
        format: opts.format,
        series: opts.series,
        tz: opts.tz,
      },
    );
    for (const d of result.dumps) console.log(`${d.url}  ${d.rows} readings, ${d.bytes} bytes`);
  },
);

const keys = program.command('keys').description('API keys');
clientOptions(
  keys
    .command('create')
    .description('create an API key (needs an admin key)')
    .addOption(new Option('--scope <scope>', 'what the key may do').choices([...apiKeyScopes]).default('write'))
    .option('--name <name>', 'a label for the key'),
).action(async (opts: { url: string; key?: string; scope: string; name?: string }) => {
  const created = await clientFrom(opts).json<{ key: string; scope: string }>('POST', '/api/v1/keys', {
    scope: opts.scope,
    name: opts.name,
  });
  console.log(created.key);
});

clientOptions(
  keys.command('ls').description('list the API keys: id, name, scope, created, last used (needs an admin key)'),
).action(async (opts: { url: string; key?: string }) => {
  const reply = await clientFrom(opts).json<{ keys: KeyInfo[] }>('GET', '/api/v1/keys');
  console.log(formatKeysTable(reply.keys));
});

clientOptions(
  keys
    .command('revoke <id>')
    .description('revoke an API key by its id (from `keys ls`); it stops working at once (needs an admin key)'),
).action(async (id: string, opts: { url: string; key?: string }) => {
  await clientFrom(opts).json('DELETE', `/api/v1/keys/${encodeURIComponent(id)}`);
  console.log(`revoked ${id}`);
});

const dlq = program.command('dlq').description('bus messages that failed to be handled (the dead-letter stream)');
clientOptions(
  dlq
    .command('ls')
    .description('list dead-lettered messages: id, topic, time, size, deliveries, reason (needs an admin key)')
    .option('--topic <topic>', 'only this topic, e.g. readings')
    .option('--limit <n>', 'most to list', '100'),
).action(async (opts: { url: string; key?: string; topic?: string; limit: string }) => {
  const query = new URLSearchParams({ limit: opts.limit, ...(opts.topic ? { topic: opts.topic } : {}) });
  const reply = await clientFrom(opts).json<{ deadLetters: DeadLetterInfo[] }>('GET', `/api/v1/dlq?${query}`);
  console.log(formatDeadLettersTable(reply.deadLetters));
});

clientOptions(
  dlq
    .command('replay [ids...]')
    .description(
      'publish dead-lettered messages to their topic again and remove them; all unless ids or --topic (needs an admin key)',
    )
    .option('--topic <topic>', 'only this topic'),
).action(async (ids: string[], opts: { url: string; key?: string; topic?: string }) => {
  const reply = await clientFrom(opts).json<{ replayed: number }>('POST', '/api/v1/dlq/replay', {
    topic: opts.topic,
    ids: ids.length ? ids : undefined,
  });
  console.log(`replayed ${reply.replayed}`);
});

registerBuildingsCommands(program, clientOptions, clientFrom);
registerFilesCommands(program, clientOptions, clientFrom);
registerBackupCommands(program, clientOptions, clientFrom, env);

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof ApiError || err instanceof CliError)
    console.error(`wattline: ${err.message}`);
  else if (err instanceof Error && 'cause' in err && (err.cause as { code?: string })?.code === 'ECONNREFUSED')
    console.error(`wattline: no server answers (${(err.cause as Error).message}); start one with \`wattline serve\``);
  else console.error(err);
  process.exit(1);
});
