import fs from 'node:fs';
import path from 'node:path';
import type { Migration, StoreKind } from './store.js';

function readFolder(folder: string): Migration[] {
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((f) => /^\d{3}-[\w-]+\.sql$/.test(f))
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      sql: fs.readFileSync(path.join(folder, file), 'utf8'),
    }));
}

/**
 * Loads a module's `NNN-name.sql` migrations: those in `<dir>/` hold SQL both engines take; those in
 * `<dir>/<store kind>/` are for one engine (types and deduplication differ for readings) and win
 * over a shared file of the same version.
 */
export function loadMigrations(dir: string, kind: StoreKind): Migration[] {
  const byVersion = new Map<number, Migration>();
  for (const m of [...readFolder(dir), ...readFolder(path.join(dir, kind))]) byVersion.set(m.version, m);
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}
