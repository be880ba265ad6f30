import type { ReadingBatch, SeriesMeta } from '../../core/readings.js';
import type { ReadingsStorage, SeriesDescription } from './storage.js';

/**
 * Writes to the catalog the units, kinds and tags that ingest lines named, where the catalog says
 * otherwise. Runs in the same commit step as the readings, before they are acknowledged, so what a
 * line said is never lost while its reading is kept. Costs nothing for the usual batch, which says
 * nothing of its series.
 */
export async function recordSeriesMeta(storage: ReadingsStorage, batches: readonly ReadingBatch[]): Promise<void> {
  const sent = new Map<string, SeriesMeta>();
  for (const batch of batches) {
    if (!batch.meta) continue;
    for (let k = 0; k < batch.keys.length; k++) {
      const meta = batch.meta[k];
      if (!meta) continue;
      const before = sent.get(batch.keys[k]);
      const tags = before?.tags && meta.tags ? { ...before.tags, ...meta.tags } : (meta.tags ?? before?.tags);
      sent.set(batch.keys[k], { ...before, ...meta, ...(tags ? { tags } : {}) });
    }
  }
  if (sent.size === 0) return;
  const changed: SeriesDescription[] = [];
  for (const entry of await storage.series([...sent.keys()])) {
    const said = sent.get(entry.key)!;
    const { unit = entry.unit, kind = entry.kind } = said;
    const tags = said.tags ? { ...entry.tags, ...said.tags } : undefined;
    const tagsChanged = tags !== undefined && !sameTags(tags, entry.tags);
    if (unit !== entry.unit || kind !== entry.kind || tagsChanged)
      changed.push({
        key: entry.key,
        unit,
        kind: kind as SeriesDescription['kind'],
        ...(tagsChanged ? { tags } : {}),
      });
  }
  if (changed.length) await storage.describe(changed);
}

function sameTags(a: Record<string, string>, b: Record<string, string> | null): boolean {
  const keys = Object.keys(a);
  return b !== null && keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
