import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateBandwidth, meanShift } from './meanshift.js';

test('two well-separated groups give two clusters, each point labelled with its own group', () => {
  const points = [
    [0, 0],
    [0.1, 0.2],
    [0.2, 0.1],
    [10, 10],
    [10.1, 9.9],
    [9.9, 10.2],
  ];
  const { labels, centers } = meanShift(points, 1);
  assert.equal(centers.length, 2);
  assert.deepEqual([...labels], [labels[0], labels[0], labels[0], labels[3], labels[3], labels[3]]);
  assert.notEqual(labels[0], labels[3]);
});

test('the bandwidth is the mean distance to the k-th nearest neighbour (k = 30 % of the points)', () => {
  // on a line at 0, 1, …, 9: k = 3, so each point's 3rd nearest (itself included) is 1 or 2 away
  const points = Array.from({ length: 10 }, (_, i) => [i]);
  assert.equal(estimateBandwidth(points), (2 * 2 + 8 * 1) / 10);
});
