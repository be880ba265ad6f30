import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zoneOffsets } from './zone-offsets.js';

const H = 3_600_000;

test('London in 2024: BST from 01:00 UTC on 31 March to 01:00 UTC on 27 October', () => {
  const o = zoneOffsets('Europe/London', Date.UTC(2024, 0, 1), Date.UTC(2025, 0, 1));
  assert.deepEqual(o.untilMs, [Date.UTC(2024, 2, 31, 1), Date.UTC(2024, 9, 27, 1)]);
  assert.deepEqual(o.offsetMs, [0, H, 0]);
});

test('a zone without clock changes has one offset; Lord Howe moves by half an hour', () => {
  assert.deepEqual(zoneOffsets('Asia/Kolkata', Date.UTC(2024, 0, 1), Date.UTC(2025, 0, 1)), {
    untilMs: [],
    offsetMs: [5.5 * H],
  });
  const lordHowe = zoneOffsets('Australia/Lord_Howe', Date.UTC(2024, 0, 1), Date.UTC(2025, 0, 1));
  assert.deepEqual(lordHowe.offsetMs, [11 * H, 10.5 * H, 11 * H]);
});
