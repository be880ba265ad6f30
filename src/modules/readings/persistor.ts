import { Unavailable } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { ReadingsMetrics as Metrics } from './metrics.js';
import type { ReadingBatch } from '../../core/readings.js';

interface Pending {
  batch: ReadingBatch;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface PersistorOptions {
  /** Commits batches in one transaction (the engine's storage). */
  write: (batches: ReadingBatch[], rows: number) => Promise<void>;
  log: Logger;
  metrics: Metrics;
  maxBatchRows: number;
  lingerMs: number;
  /** Called after each commit, before any waiting publisher is answered (cache invalidation, live updates). */
  onCommitted: (batches: ReadingBatch[]) => void;
}

/**
 * Writes reading batches with group commit: batches queued while a commit runs go into the next
 * transaction together, and each publisher is answered only after its rows committed.
 */
export class Persistor {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private running: Promise<void> | undefined;

  constructor(private readonly options: PersistorOptions) {}

  /** Rows waiting to be committed. */
  get backlogRows(): number {
    return this.queuedRows;
  }

  /** Resolves once every row of `batch` is committed. */
  write(batch: ReadingBatch): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.queuedRows += batch.length;
      this.options.metrics.persistQueueRows.set(this.queuedRows);
      this.running ??= this.drain();
    });
  }

  /** Waits until everything queued so far is committed (shutdown). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain() {
    try {
      while (this.queue.length) {
        if (this.options.lingerMs > 0 && this.queuedRows < this.options.maxBatchRows) {
          await new Promise((r) => setTimeout(r, this.options.lingerMs));
        }
        const group: Pending[] = [];
        let rows = 0;
        while (
          this.queue.length &&
          (group.length === 0 || rows + this.queue[0].batch.length <= this.options.maxBatchRows)
        ) {
          const p = this.queue.shift()!;
          group.push(p);
          rows += p.batch.length;
        }
        try {
          const started = performance.now();
          const batches = group.map((p) => p.batch);
          await this.options.write(batches, rows);
          this.options.metrics.persistCommitSeconds.observe((performance.now() - started) / 1000);
          this.options.metrics.persistRows.inc(rows);
          this.options.onCommitted(batches);
          for (const p of group) p.resolve();
        } catch (err) {
          // an unreachable store is an outage the bus waits out (its messages are kept), not a lost batch
          if (err instanceof Unavailable) this.options.log.warn({ err, rows }, 'batch commit waits for the store');
          else this.options.log.error({ err, rows }, 'batch commit failed');
          for (const p of group) p.reject(err);
        } finally {
          this.queuedRows -= rows;
          this.options.metrics.persistQueueRows.set(this.queuedRows);
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
