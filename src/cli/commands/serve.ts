import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../config.js';
import type { Role } from '../../core/module.js';
import { startWattline } from '../../main.js';

const sampleFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../samples/readings.ndjson');

/** Runs the server until SIGTERM/SIGINT, then shuts down gracefully (in-flight batches first). */
export async function serve(config: Config, roles?: Role[]) {
  // the sample commands are for a first look at an empty embedded store
  const firstStart = !config.databaseUrl && !fs.existsSync(path.join(config.dataDir, 'wattline.duckdb'));
  const app = await startWattline(config, { roles });
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
