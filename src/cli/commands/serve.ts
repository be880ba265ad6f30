import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { Config } from '../../config.js';
import type { Role } from '../../core/module.js';
import { ListenError, startWattline } from '../../main.js';
import { CliError } from '../client.js';

const sampleFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../samples/readings.ndjson');

/** Runs the server until SIGTERM/SIGINT, then shuts down gracefully (in-flight batches first). */
export async function serve(config: Config, roles?: Role[]) {
  // the sample commands are for a first look at an empty embedded store
  const firstStart = !config.databaseUrl && !fs.existsSync(path.join(config.dataDir, 'wattline.duckdb'));
  quietGrpcBindErrors();
  const app = await startWattline(config, { roles }).catch((err: unknown) => {
    const problem = startupProblem(err, config);
    throw problem ? new CliError(problem) : err;
  });
  const generated = app.ctx.keys.generatedKey;
  const lines = [
    `Wattline is running (${roles?.join(', ') ?? 'all roles'}) — ${describeStack(config)}`,
    `  HTTP API   ${app.url}`,
    `  API docs   ${app.url}/docs`,
    `  Metrics    ${app.url}/metrics`,
  ];
  if (app.grpcUrl)
    lines.push(`  gRPC       ${app.grpcUrl}   (edgecom.TimeSeriesService, wattline.v1.ReadingsService; reflection on)`);
  // the secret is shown once, when it is made; later banners (and the logs they end up in) only say where it is
  if (generated?.createdNow) lines.push(`  API key    ${generated.key}   (admin; kept in ${generated.file})`);
  else if (generated) lines.push(`  API key    kept in ${generated.file}   (admin; created at first start)`);
  if (firstStart) {
    const key = generated?.key ?? '<your key>';
    const readAuth = config.requireReadKey ? `-u ${key}: ` : '';
    lines.push(
      '',
      'Send the sample readings:',
      `  curl -u ${key}: -H 'Content-Type: application/x-ndjson' --data-binary '@${sampleFile}' ${app.url}/ingest`,
      'Query them (hourly averages):',
      `  curl ${readAuth}'${app.url}/api/v1/query?series=home/meter/power,home/solar/power&start=2024-06-01T00:00:00Z&end=2024-06-01T23:59:59Z&window=1h&agg=avg'`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.ctx.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.ctx.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** One line saying why the server could not start and what to do, for the failures a user causes. */
export function startupProblem(err: unknown, config: Config): string | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err instanceof ListenError) {
    const setting = err.server === 'HTTP' ? 'WATTLINE_HTTP_PORT (httpPort)' : 'WATTLINE_GRPC_PORT (grpcPort)';
    const inUse = /EADDRINUSE/.test(err.message);
    return inUse
      ? `${err.server} port ${err.port} is in use on ${err.host} by another process: stop it, or set ${setting} to a free port (0 picks one)`
      : `${err.message}; set ${setting} to another port`;
  }
  // DuckDB: 'Could not set lock on file "…/wattline.duckdb": Conflicting lock is held in /usr/bin/node (PID 7087)'
  if (/Could not set lock on file/.test(err.message)) {
    const holder = /Conflicting lock is held in (.+?) \(PID (\d+)\)/.exec(err.message);
    const who = holder ? `another process (PID ${holder[2]}, ${holder[1]})` : 'another process';
    return `the data dir ${path.resolve(config.dataDir)} is in use by ${who}, likely another wattline serve: stop it, or give this one its own data dir with WATTLINE_DATA_DIR (dataDir)`;
  }
  return undefined;
}

/** grpc-js prints a failed bind on stderr itself ("E No address added …"); the error thrown says it better, once. */
function quietGrpcBindErrors() {
  grpc.setLogger({
    error: (message: unknown, ...rest: unknown[]) => {
      if (!String(message).startsWith('No address added')) console.error(`E ${message}`, ...rest);
    },
    info: (message: unknown, ...rest: unknown[]) => console.error(`I ${message}`, ...rest),
    debug: (message: unknown, ...rest: unknown[]) => console.error(`D ${message}`, ...rest),
  });
}

function describeStack(config: Config): string {
  const store = config.databaseUrl
    ? `PostgreSQL at ${redactUrl(config.databaseUrl)} (schema ${config.store.schema})`
    : `embedded store (DuckDB) in ${path.resolve(config.dataDir)}`;
  const bus = config.busUrl ? `NATS JetStream at ${redactUrl(config.busUrl)}` : 'in-process bus';
  return `${store}, ${bus}`;
}

/** A URL without its password, for printing. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
