/**
 * Sensor-log clustering at scale: MeanShift (bandwidth estimated on a 1,000-point sample, bin
 * seeding) over 100,000 synthetic events — five load groups like events.txt's plus 2 % noise, 8
 * features each — timed and with the memory it took, as the clustering worker runs it.
 */
import { estimateBandwidth, meanShift } from '../src/modules/sensorlog/meanshift.js';
import { createMulberry32 } from './lib/power-readings.js';
import { describeMachine, printTable, writeResults } from './lib/report.js';

const EVENTS = 100_000;
const GROUPS_W = [270, 1230, 1720, 2300, 3590];

export async function run(): Promise<void> {
  const startedAt = new Date();
  const random = createMulberry32(20161004);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const points: number[][] = [];
  for (let i = 0; i < EVENTS; i++) {
    const noise = random() < 0.02;
    const active = noise ? random() * 4000 : GROUPS_W[i % GROUPS_W.length] * (1 + 0.05 * gauss());
    const current = active / 230;
    points.push([
      active,
      active * 0.16,
      active * 0.23,
      current,
      230 + gauss(),
      current * (1 + 0.01 * gauss()),
      current * (1 + 0.01 * gauss()),
      current * (1 + 0.01 * gauss()),
    ]);
  }
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const started = performance.now();
  const bandwidth = estimateBandwidth(points);
  const { labels, centers } = meanShift(points, bandwidth);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const outliers = labels.filter((l) => l === -1).length;
  const rows = [
    {
      workload: `cluster ${EVENTS.toLocaleString('en')} sensor events (MeanShift, 8 features)`,
      value: seconds,
      shown: `${seconds.toFixed(2)} s`,
    },
    { workload: 'clusters found / outliers', value: centers.length, shown: `${centers.length} / ${outliers}` },
    {
      workload: 'memory added while clustering',
      value: (peakRss - rssBefore) / 2 ** 20,
      shown: `${Math.round((peakRss - rssBefore) / 2 ** 20)} MB`,
    },
  ];
  printTable(
    ['workload', 'wattline'],
    rows.map((r) => [r.workload, r.shown]),
  );
  writeResults('clustering', startedAt, {
    benchmark: 'clustering',
    startedAt: startedAt.toISOString(),
    machine: describeMachine(),
    bandwidth,
    rows,
  });
}
