import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { backupName } from '../../core/backup/routes.js';
import { BlobNotFound, type BlobStore, openBlobStore } from '../../core/blob/index.js';
import { CliError, type Client } from '../client.js';

type ClientOpts = { url: string; key?: string };

const BACKUP_NAME = /^wattline-.+\.duckdb$/;

/** A folder (path or file:// URL) or s3://bucket/prefix, with the S3 credentials of the environment. */
function blobStoreAt(where: string, env: NodeJS.ProcessEnv): BlobStore {
  const url = /^(file|s3):/.test(where) ? where : pathToFileURL(path.resolve(where)).href;
  const config = loadConfig({ env });
  return openBlobStore(url, { dataDir: config.dataDir, s3: config.s3 });
}

/** Readings and series in a restored file, read before it takes the store's place (and proving it is one). */
async function describeStoreFile(file: string): Promise<{ series: number; readings: number }> {
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  } catch (err) {
    throw new CliError(`not a Wattline backup (${(err as Error).message.split('\n')[0]})`);
  }
  try {
    const c = await instance.connect();
    const rows = (
      await c.runAndReadAll(
        'SELECT (SELECT count(*) FROM series) AS series, (SELECT count(*) FROM readings) AS readings',
      )
    ).getRowObjectsJS() as { series: bigint; readings: bigint }[];
    c.closeSync();
    return { series: Number(rows[0].series), readings: Number(rows[0].readings) };
  } catch (err) {
    throw new CliError(`not a Wattline backup: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    instance.closeSync();
  }
}

/**
 * `wattline backup <dir|s3://…>`: asks the running server for a consistent copy of its embedded store
 * and writes it as `wattline-<time>.duckdb`; `wattline restore <dir|s3://…>` brings the newest (or
 * `--name`) back into an empty data dir, with the server stopped.
 */
export function registerBackupCommands(
  program: Command,
  withClient: (cmd: Command) => Command,
  clientFrom: (opts: ClientOpts) => Client,
  env: NodeJS.ProcessEnv,
) {
  withClient(
    program
      .command('backup <target>')
      .description(
        "copy the running server's embedded store, consistent while it serves, into a folder or s3://bucket/prefix as wattline-<time>.duckdb (needs an admin key; PostgreSQL: use pg_dump)",
      ),
  ).action(async (target: string, opts: ClientOpts) => {
    const blobs = blobStoreAt(target, env);
    const { body, filename } = await clientFrom(opts).download('/api/v1/backup');
    const name = filename && BACKUP_NAME.test(filename) ? filename : backupName(Date.now());
    const put = await blobs.put(name, body, { contentType: 'application/octet-stream' });
    console.log(`${put.url}  ${put.bytes} bytes`);
  });

  program
    .command('restore <source>')
    .description(
      'bring a backup back into an empty data dir, with the server stopped: the newest wattline-*.duckdb in a folder or s3://bucket/prefix, or --name',
    )
    .option('--name <file>', 'which backup (default: the newest)')
    .option('--data-dir <dir>', 'the data dir to fill (env WATTLINE_DATA_DIR)', env.WATTLINE_DATA_DIR ?? './data')
    .action(async (source: string, opts: { name?: string; dataDir: string }) => {
      const blobs = blobStoreAt(source, env);
      const name = opts.name ?? (await blobs.list()).filter((n) => BACKUP_NAME.test(n)).at(-1);
      if (!name) throw new CliError(`no backup (wattline-*.duckdb) in ${blobs.url}`);
      const dataDir = path.resolve(opts.dataDir);
      const target = path.join(dataDir, 'wattline.duckdb');
      if (fs.existsSync(target) || fs.existsSync(`${target}.wal`))
        throw new CliError(`${dataDir} already holds a store (wattline.duckdb): restore fills an empty data dir`);
      fs.mkdirSync(dataDir, { recursive: true });
      // under another name until it is whole and proven a store: a failed restore leaves no store behind
      const partial = `${target}.restoring`;
      try {
        const body = await blobs.get(name).catch((err) => {
          throw err instanceof BlobNotFound ? new CliError(`no backup named ${name} in ${blobs.url}`) : err;
        });
        await pipeline(body, fs.createWriteStream(partial));
        const { series, readings } = await describeStoreFile(partial);
        fs.renameSync(partial, target);
        console.log(`restored ${name} into ${dataDir}: ${series} series, ${readings} readings`);
      } finally {
        fs.rmSync(partial, { force: true });
      }
    });
}
