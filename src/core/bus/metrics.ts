import { Counter, Gauge, type Registry } from 'prom-client';

/** How full one topic's queue is: the larger of its message and byte fill, 0 to 1. */
export interface QueueFill {
  topic: string;
  ratio: number;
}

/** The bus's own metrics, on the registry the bus is given (none: counted but not exported). */
export function createBusMetrics(
  registry: Registry | undefined,
  fill: () => Promise<QueueFill[]>,
  /** The in-process bus's queue depth per topic (rows for `readings`, messages otherwise). */
  depth?: () => Iterable<[topic: string, weight: number]>,
) {
  const registers = registry ? [registry] : [];
  const refused = new Counter({
    name: 'bus_publish_refused_total',
    help: 'Publishes refused because the topic queue was full (ingest answers 503), early checks included',
    labelNames: ['topic'] as const,
    registers,
  });
  new Gauge({
    name: 'bus_queue_fill_ratio',
    help: 'How full each limited topic queue is, 0 to 1 (at 1 publishes are refused); read at scrape time',
    labelNames: ['topic'] as const,
    registers,
    async collect() {
      this.reset();
      for (const f of await fill()) this.set({ topic: f.topic }, f.ratio);
    },
  });
  if (depth)
    new Gauge({
      name: 'bus_queue_depth',
      help: 'Published and not yet handled, per topic of the in-process bus: rows for readings, messages otherwise (the queue limit counts this)',
      labelNames: ['topic'] as const,
      registers,
      collect() {
        this.reset();
        for (const [topic, weight] of depth()) this.set({ topic }, weight);
      },
    });
  return {
    refused: (topic: string) => refused.inc({ topic }),
  };
}

export type BusMetrics = ReturnType<typeof createBusMetrics>;
