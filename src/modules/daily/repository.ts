import type { Store } from '../../core/store/index.js';
import type { DailySummary } from './summary.js';

/** SQL for the daily module's own tables: worker statuses and summaries. */

export async function saveStatus(
  store: Store,
  date: string,
  service: string,
  status: 'OK' | 'FAILED',
  reason: string | null,
) {
  await store.transaction((tx) =>
    tx.run(
      `INSERT INTO daily_status (date, service, status, reason) VALUES ($1, $2, $3, $4)
       ON CONFLICT (date, service) DO UPDATE SET status = excluded.status, reason = excluded.reason, updated_at = now()`,
      [date, service, status, reason],
    ),
  );
}

export function statuses(store: Store, date: string) {
  return store.query<{ service: string; status: 'OK' | 'FAILED'; reason: string | null }>(
    `SELECT service, status, reason FROM daily_status WHERE date = $1 ORDER BY service`,
    [date],
  );
}

export async function saveSummary(store: Store, summary: DailySummary) {
  await store.transaction((tx) =>
    tx.run(
      `INSERT INTO daily_summaries (date, summary) VALUES ($1, $2) ON CONFLICT (date) DO UPDATE SET summary = excluded.summary, computed_at = now()`,
      [summary.date, JSON.stringify(summary)],
    ),
  );
}

export async function summaries(store: Store, from: string, to: string): Promise<DailySummary[]> {
  const rows = await store.query<{ summary: string }>(
    `SELECT summary FROM daily_summaries WHERE date >= $1 AND date <= $2 ORDER BY date`,
    [from, to],
  );
  return rows.map((r) => JSON.parse(r.summary) as DailySummary);
}
