import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summariseDay, type Slot } from './summary.js';

const slot = (i: number, s: Omit<Slot, 'startMs'>): Slot => ({ startMs: i * 1_800_000, ...s });

test('totals, cost, carbon, average intensity and mix add up the joined half-hours by hand', () => {
  const slots = [
    // 1 kWh at 20 p (19 p without VAT), 100 gCO2/kWh, 50 % gas and 50 % wind: the energy functions' products
    slot(0, { usageKwh: 1, costIncVatP: 20, costExcVatP: 19, carbonG: 100, mixKwhPerc: { gas: 50, wind: 50 } }),
    // 3 kWh at 10 p (9.5 p), 200 gCO2/kWh, 25 % gas and 75 % wind
    slot(1, { usageKwh: 3, costIncVatP: 30, costExcVatP: 28.5, carbonG: 600, mixKwhPerc: { gas: 75, wind: 225 } }),
    slot(2, { usageKwh: 5, costIncVatP: 50, costExcVatP: 47.5, mixKwhPerc: { gas: 0, wind: 500 } }), // no intensity: not joined
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
    [slot(0, { usageKwh: 0, costIncVatP: 0, costExcVatP: 0, carbonG: 0, mixKwhPerc: { gas: 0 } })],
    45,
  );
  assert.equal(s.averageIntensityGPerKwh, 0);
  assert.deepEqual(s.mix, [{ fuel: 'gas', perc: 0 }]);
  assert.equal(s.totalCostIncVatP, 45);
  assert.ok(!JSON.stringify(s).includes('null'));
});
