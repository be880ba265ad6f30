import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/log.js';
import type { Store } from '../../core/store/index.js';

const FEATURES = ['power_active_w', 'power_reactive_var', 'power_apparent_va', 'line_current_a', 'line_voltage_v'];
const PEAKS = 3;
const workerEntry = new URL('./cluster-worker-entry.js', import.meta.url);

/**
 * Re-clusters every stored event once `every` more have been stored, in a worker thread: a request
 * never waits for it, and a new run never starts while one is running (it runs again after, if due).
 */
export function createClustering(options: { store: Store; log: Logger; every: number }) {
  const { store, log } = options;
  let sinceLastRun = 0;
  let running: Promise<void> | undefined;

  async function run() {
    sinceLastRun = 0;
    const rows = await store.query<{
      id: number;
      power_active_w: number;
      power_reactive_var: number;
      power_apparent_va: number;
      line_current_a: number;
      line_voltage_v: number;
      current_peaks: string;
    }>(`SELECT id, ${FEATURES.join(', ')}, current_peaks FROM sensor_events ORDER BY id`);
    const dims = FEATURES.length + PEAKS;
    const flat = new Float64Array(rows.length * dims);
    rows.forEach((r, i) => {
      const peaks = JSON.parse(r.current_peaks) as number[];
      const values = [
        r.power_active_w,
        r.power_reactive_var,
        r.power_apparent_va,
        r.line_current_a,
        r.line_voltage_v,
        ...Array.from({ length: PEAKS }, (_, k) => peaks[k] ?? 0),
      ];
      flat.set(
        values.map((v) => v ?? 0),
        i * dims,
      );
    });
    const worker = new Worker(workerEntry);
    try {
      const labels = await new Promise<Int32Array>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({ flat, dims }, [flat.buffer]);
      });
      await store.transaction(async (tx) => {
        for (let i = 0; i < rows.length; i += 1000) {
          const values = rows.slice(i, i + 1000).map((r, k) => `(${r.id}, ${labels[i + k]})`);
          await tx.run(
            `UPDATE sensor_events SET cluster = v.label FROM (VALUES ${values.join(', ')}) AS v(id, label) WHERE sensor_events.id = v.id`,
          );
        }
      });
      log.info({ events: rows.length, clusters: new Set(labels).size }, 'sensor events clustered');
    } finally {
      await worker.terminate();
    }
  }

  function kick() {
    if (running || sinceLastRun < options.every) return;
    running = run()
      .catch((err) => log.error({ err }, 'clustering failed'))
      .finally(() => {
        running = undefined;
        kick(); // events stored during the run may be due already
      });
  }

  return {
    /** Counts stored events (those unclustered at start count too) and starts a run when due. */
    stored(n: number) {
      sinceLastRun += n;
      kick();
    },
    async stop() {
      while (running) await running;
    },
  };
}
