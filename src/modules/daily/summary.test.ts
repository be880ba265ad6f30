import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summariseDay, type Slot } from './summary.js';

const slot = (i: number, s: Omit<Slot, 'startMs'>): Slot => ({ startMs: i * 1_800_000, ...s });

test('totals, cost, carbon, average intensity and mix match hand-computed values over the joined half-hours', () => {
  const slots = [
    slot(0, { usageKwh: 1, rateIncVatP: 20, rateExcVatP: 19, intensityGPerKwh: 100, mix: { gas: 50, wind: 50 } }),
    slot(1, { usageKwh: 3, rateIncVatP: 10, rateExcVatP: 9.5, intensityGPerKwh: 200, mix: { gas: 25, wind: 75 } }),
    slot(2, { usageKwh: 5, rateIncVatP: 10, rateExcVatP: 9.5, mix: { gas: 0, wind: 100 } }), // no intensity: not joined
    slot(3, {}),
  ];
  const s = summariseDay('2024-01-01', slots, 45);
  assert.equal(s.slotsExpected, 4);
  assert.equal(s.slotsJoined, 2);
  assert.equal(s.totalEnergyKwh, 4);
  assert.equal(s.costIncVatP, 1 * 20 + 3 * 10); // 50
  assert.equal(s.costExcVatP, 1 * 19 + 3 * 9.5); // 47.5
  assert.equal(s.totalCostIncVatP, 95);
  assert.equal(s.carbonG, 1 * 100 + 3 * 200); // 700
  assert.equal(s.averageIntensityGPerKwh, 175);
  assert.deepEqual(s.mix, [
    { fuel: 'gas', perc: (1 * 50 + 3 * 25) / 4 }, // 31.25
    { fuel: 'wind', perc: (1 * 50 + 3 * 75) / 4 }, // 68.75
  ]);
});

test('a day without usage has zero totals, never NaN', () => {
  const s = summariseDay(
    '2024-01-02',
    [slot(0, { usageKwh: 0, rateIncVatP: 20, rateExcVatP: 19, intensityGPerKwh: 100, mix: { gas: 100 } })],
    45,
  );
  assert.equal(s.averageIntensityGPerKwh, 0);
  assert.deepEqual(s.mix, [{ fuel: 'gas', perc: 0 }]);
  assert.equal(s.totalCostIncVatP, 45);
  assert.ok(!JSON.stringify(s).includes('null'));
});
