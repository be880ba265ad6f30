import { z } from 'zod';
import type { Logger } from '../../core/log.js';
import type { Store } from '../../core/store/index.js';
import { DAY_MS } from '../../core/time/timestamps.js';
import type { ReadingsStorage } from './storage.js';

/** One rule: the series whose keys match `pattern` keep their raw readings `keep_raw_days` days. */
export const retentionRule = z.strictObject({
  pattern: z
    .string({ error: 'expected a series key pattern such as home/* (* any characters, ? one)' })
    .min(1)
    .max(200),
  keep_raw_days: z
    .number({ error: 'expected a whole number of days from 1 to 36500' })
    .int({ error: 'expected a whole number of days from 1 to 36500' })
    .min(1, { error: 'expected a whole number of days from 1 to 36500' })
    .max(36_500, { error: 'expected a whole number of days from 1 to 36500' }),
});
export type RetentionRule = z.output<typeof retentionRule>;

/** A key glob as a RegExp: `*` any run of characters (`/` too), `?` one, the rest literal. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`);
}

/** How long a series keeps its raw readings: the longest of the rules it matches; undefined: for ever. */
export function keepRawDays(key: string, rules: readonly { test: RegExp; days: number }[]): number | undefined {
  let days: number | undefined;
  for (const r of rules) if (r.test.test(key) && (days === undefined || r.days > days)) days = r.days;
  return days;
}

/** The rules set over the API; empty when none were (then the settings' apply). */
export async function loadRules(store: Store): Promise<RetentionRule[]> {
  const rows = await store.query<{ pattern: string; keep_raw_days: number }>(
    `SELECT pattern, keep_raw_days FROM retention_rules ORDER BY pattern`,
  );
  return rows.map((r) => ({ pattern: r.pattern, keep_raw_days: Number(r.keep_raw_days) }));
}

export async function saveRules(store: Store, rules: readonly RetentionRule[]): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.run(`DELETE FROM retention_rules`);
    for (const r of rules)
      await tx.run(`INSERT INTO retention_rules (pattern, keep_raw_days) VALUES ($1, $2)`, [
        r.pattern,
        r.keep_raw_days,
      ]);
  });
}

export interface RetentionRun {
  /** Series whose raw readings were looked at (those a rule matches). */
  series: number;
  deleted: number;
  /** False on an engine without rollups (PostgreSQL): nothing is deleted there. */
  supported: boolean;
}

/**
 * Deletes the raw readings each rule lets go: per matching series, whole days older than its
 * keep, once their hourly rollups hold them (the engine decides, `pruneRaw`). Returns the series
 * touched, so their cached answers can be dropped.
 */
export async function applyRetention(options: {
  storage: ReadingsStorage;
  rules: readonly RetentionRule[];
  now: number;
  log: Logger;
}): Promise<RetentionRun & { touched: string[] }> {
  const compiled = options.rules.map((r) => ({ test: globToRegExp(r.pattern), days: r.keep_raw_days }));
  if (!compiled.length) return { series: 0, deleted: 0, supported: true, touched: [] };
  const byDays = new Map<number, { ids: number[]; keys: string[] }>();
  for (const entry of await options.storage.series()) {
    const days = keepRawDays(entry.key, compiled);
    if (days === undefined) continue;
    const group = byDays.get(days) ?? { ids: [], keys: [] };
    group.ids.push(entry.id);
    group.keys.push(entry.key);
    byDays.set(days, group);
  }
  const run = { series: 0, deleted: 0, supported: true, touched: [] as string[] };
  for (const [days, group] of byDays) {
    const pruned = await options.storage.pruneRaw(group.ids, options.now - days * DAY_MS);
    if (!pruned) {
      run.supported = false;
      continue;
    }
    run.series += group.ids.length;
    run.deleted += pruned.deleted;
    if (pruned.deleted) run.touched.push(...group.keys);
  }
  if (!run.supported)
    options.log.warn('retention rules are kept but not applied: this store keeps no rollups (PostgreSQL)');
  else if (run.deleted)
    options.log.info({ deleted: run.deleted, series: run.series }, 'retention deleted raw readings');
  return run;
}
