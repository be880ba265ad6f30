import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Conflict } from '../errors.js';
import { defineModule } from '../module.js';
import { BackupNotSupported } from '../store/index.js';

/** Where copies are written before they are sent: in the data dir, so on the same disk as the store. */
const TEMP_FOLDER = 'backup-tmp';

/** The name a backup taken at `ms` goes by: sorts by time, and safe in file systems and S3 keys. */
export function backupName(ms: number): string {
  return `wattline-${new Date(ms).toISOString().replaceAll(':', '-')}.duckdb`;
}

/**
 * Core's backup route, registered like a module's, admin only: `GET /api/v1/backup` answers a
 * consistent copy of the embedded store (a DuckDB file holding every commit made before the request,
 * none after) taken while readings keep arriving; behind `wattline backup`. In PostgreSQL mode it
 * answers 409: that database is backed up with pg_dump or base backups (README). Role `api`.
 */
export const backupModule = defineModule({
  name: 'backup',
  create: ({ core, store }) => {
    const tempDir = path.join(core.dataDir, TEMP_FOLDER);
    // copies a killed process was still sending
    fs.rmSync(tempDir, { recursive: true, force: true });
    return {
      service: undefined,
      roles: {
        api: {
          routes: async (http: FastifyInstance) => {
            http.get(
              '/api/v1/backup',
              {
                config: { access: 'admin' },
                schema: {
                  summary: 'A consistent copy of the embedded store (a DuckDB file), taken while it serves',
                  tags: ['operations'],
                  produces: ['application/octet-stream'],
                },
              },
              async (_request, reply) => {
                const takenMs = Date.now();
                await fs.promises.mkdir(tempDir, { recursive: true });
                const file = path.join(tempDir, `${randomUUID()}.duckdb`);
                const removeCopy = () => {
                  for (const f of [file, `${file}.wal`]) fs.rm(f, { force: true }, () => undefined);
                };
                try {
                  await store.backupTo(file);
                } catch (err) {
                  removeCopy();
                  if (err instanceof BackupNotSupported)
                    throw new Conflict(
                      'backup_not_supported',
                      'this server stores readings in PostgreSQL: back it up with pg_dump or base backups (see the README)',
                    );
                  throw err;
                }
                const { size } = await fs.promises.stat(file);
                const body = fs.createReadStream(file);
                // a finished, failed or abandoned download: the copy goes either way
                body.once('close', removeCopy);
                return reply
                  .header('content-type', 'application/octet-stream')
                  .header('content-length', String(size))
                  .header('content-disposition', `attachment; filename="${backupName(takenMs)}"`)
                  .send(body);
              },
            );
          },
        },
      },
    };
  },
});
