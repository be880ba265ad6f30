import { DAY_MS } from '../../../core/time/timestamps.js';
import type { Connector } from '../../sources/index.js';
import type { Settings } from '../settings.js';
import { edgecomReply } from './upstream.js';

/** `2024-01-01T00:00:00`: the upstream's time format (UTC, no zone). */
function upstreamTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/**
 * The EdgeCom Energy API series: `GET <url>?start=…&end=…` → readings of `edgecom.series`, the series
 * the edgecom gRPC service answers for, so the pair works end to end as the original did.
 */
export const createEdgecomConnector = (edgecom: Settings['edgecom']): Connector => ({
  name: 'edgecom',
  off: edgecom.url ? undefined : 'WATTLINE_EDGECOM_URL is not set',
  chunkMs: 7 * DAY_MS,
  bootstrapDays: edgecom.bootstrapDays,
  pollMs: edgecom.pollMs,
  lookbackMs: 15 * 60_000,
  // the EdgeCom API does not say its unit; the catalog leaves it open rather than guess
  series: [{ key: edgecom.series, unit: null, kind: 'gauge' }],
  async fetch({ fromMs, toMs }, upstream) {
    const url = new URL(edgecom.url!);
    url.searchParams.set('start', upstreamTime(fromMs));
    url.searchParams.set('end', upstreamTime(toMs));
    const reply = await upstream.getJson(url.toString(), edgecomReply);
    return reply.result.map((r) => ({ series: edgecom.series, ts: r.time * 1000, value: r.value }));
  },
});
