import { formatTable } from '../table.js';
import type { Client } from '../client.js';

interface QueryReply {
  results: { series: string; points: { time: string; value: number | null }[] }[];
  warnings?: { series: string; warning: string; closest: string | null }[];
}

/** One line per warning (an unknown series and the key it may have meant), for stderr. */
export function formatQueryWarnings(reply: QueryReply): string[] {
  return (reply.warnings ?? []).map(
    (w) => `warning: ${w.warning} "${w.series}"${w.closest === null ? '' : `; did you mean "${w.closest}"?`}`,
  );
}

/** Prints one row per time and one column per series. */
export function formatQueryTable(reply: QueryReply): string {
  const times = [...new Set(reply.results.flatMap((r) => r.points.map((p) => p.time)))].sort();
  const columns = reply.results.map((r) => new Map(r.points.map((p) => [p.time, p.value])));
  const rows = [
    ['time', ...reply.results.map((r) => r.series)],
    ...times.map((t) => [t, ...columns.map((c) => (c.has(t) ? String(c.get(t)) : ''))]),
  ];
  return formatTable(rows);
}

export async function runQuery(client: Client, params: Record<string, string | undefined>): Promise<QueryReply> {
  const search = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  return client.json<QueryReply>('GET', `/api/v1/query?${search}`);
}
