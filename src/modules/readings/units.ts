import type { ReadingBatch } from '../../core/readings.js';
import type { ReadingsStorage, SeriesDescription } from './storage.js';

/**
 * Writes to the catalog the units that ingest lines named, where the catalog says otherwise,
 * keeping each series' kind. Runs in the same commit step as the readings, before they are
 * acknowledged, so a unit is never lost while its readings are kept. Costs nothing for the usual
 * batch, which names no unit.
 */
export async function recordUnits(storage: ReadingsStorage, batches: readonly ReadingBatch[]): Promise<void> {
  const sent = new Map<string, string>();
  for (const batch of batches) {
    if (!batch.units) continue;
    for (let k = 0; k < batch.keys.length; k++) {
      const unit = batch.units[k];
      if (unit !== null && unit !== undefined) sent.set(batch.keys[k], unit);
    }
  }
  if (sent.size === 0) return;
  const changed = (await storage.series([...sent.keys()]))
    .filter((entry) => entry.unit !== sent.get(entry.key))
    .map((entry) => ({ key: entry.key, unit: sent.get(entry.key)!, kind: entry.kind as SeriesDescription['kind'] }));
  if (changed.length) await storage.describe(changed);
}
