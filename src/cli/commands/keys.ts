import { formatTable } from '../table.js';
/** A key as `GET /api/v1/keys` lists it. */
export interface KeyInfo {
  id: string;
  name: string | null;
  scope: string;
  created: string | null;
  lastUsed: string | null;
}

/** One row per key under an `id name scope created last-used` header; `-` for what is unknown. */
export function formatKeysTable(keys: readonly KeyInfo[]): string {
  const rows = [
    ['id', 'name', 'scope', 'created', 'last-used'],
    ...keys.map((k) => [k.id, k.name ?? '-', k.scope, k.created ?? '-', k.lastUsed ?? '-']),
  ];
  return formatTable(rows);
}
