import type { HttpClient } from './http-client.js';

export interface CatalogEntry {
  key: string;
  count: number;
}

/** How often the catalog is polled while waiting for rows to be stored. */
const POLL_MS = 50;

/** The whole catalog, page after page. */
export async function readCatalog(client: HttpClient): Promise<CatalogEntry[]> {
  const out: CatalogEntry[] = [];
  for (let cursor: string | null = ''; cursor !== null; ) {
    const path = `/api/v1/series?limit=10000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await client.get(path);
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${res.text.slice(0, 500)}`);
    const page = JSON.parse(res.text) as { series: CatalogEntry[]; next?: string | null };
    for (const e of page.series) out.push(e);
    cursor = page.next ?? null;
  }
  return out;
}

/**
 * Reads the catalog until `done` says it shows what was sent (on NATS a 200 means queued, not
 * stored), at least once; after `timeoutMs` it throws `describe`'s account of how far it got.
 */
export async function pollCatalog(
  client: HttpClient,
  done: (catalog: CatalogEntry[]) => boolean,
  options: { timeoutMs: number; describe: (catalog: CatalogEntry[]) => string },
): Promise<CatalogEntry[]> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const catalog = await readCatalog(client);
    if (done(catalog)) return catalog;
    if (performance.now() >= deadline) throw new Error(options.describe(catalog));
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
