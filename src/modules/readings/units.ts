import type { ReadingBatch } from '../../core/readings.js';
import type { ReadingsStorage, SeriesDescription } from './storage.js';

/**
 * Writes to the catalog the units and kinds that ingest lines named, where the catalog says
 * otherwise. Runs in the same commit step as the readings, before they are acknowledged, so what a
 * line said is never lost while its reading is kept. Costs nothing for the usual batch, which says
 * nothing of its series.
 */
export async function recordSeriesMeta(storage: ReadingsStorage, batches: readonly ReadingBatch[]): Promise<void> {
  const sent = new Map<string, { unit?: string; kind?: string }>();
  for (const batch of batches) {
    if (!batch.meta) continue;
    for (let k = 0; k < batch.keys.length; k++) {
      const meta = batch.meta[k];
      if (meta) sent.set(batch.keys[k], { ...sent.get(batch.keys[k]), ...meta });
    }
  }
  if (sent.size === 0) return;
  const changed: SeriesDescription[] = [];
  for (const entry of await storage.series([...sent.keys()])) {
    const { unit = entry.unit, kind = entry.kind } = sent.get(entry.key)!;
    if (unit !== entry.unit || kind !== entry.kind)
      changed.push({ key: entry.key, unit, kind: kind as SeriesDescription['kind'] });
  }
  if (changed.length) await storage.describe(changed);
}
