import { parentPort } from 'node:worker_threads';
import { estimateBandwidth, meanShift } from './meanshift.js';

/** Clusters off the main thread: points in (flat Float64Array, dims), labels back (transferred). */
parentPort!.on('message', ({ flat, dims }: { flat: Float64Array; dims: number }) => {
  const points: number[][] = [];
  for (let i = 0; i < flat.length; i += dims) points.push(Array.from(flat.subarray(i, i + dims)));
  const { labels } = points.length ? meanShift(points, estimateBandwidth(points)) : { labels: new Int32Array(0) };
  parentPort!.postMessage(labels, [labels.buffer as ArrayBuffer]);
});
