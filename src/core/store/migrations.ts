import fs from 'node:fs';
import path from 'node:path';
import type { Migration, StoreKind } from './store.js';

/**
 * Loads `NNN-name.sql` files from `<dir>/<store kind>/` (SQL per engine, since the engines differ in
 * types and in how readings are deduplicated). A missing folder means no migrations for that engine.
 */
export function loadMigrations(dir: string, kind: StoreKind): Migration[] {
  const folder = path.join(dir, kind);
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((f) => /^\d{3}-[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      sql: fs.readFileSync(path.join(folder, file), 'utf8'),
    }));
}
