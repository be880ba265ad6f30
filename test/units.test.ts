import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MODES, buildMode } from './helpers.js';

const at = (minute: number) => new Date(Date.UTC(2024, 5, 1, 0, minute)).toISOString();

for (const mode of MODES) {
  test(`a unit sent on an ingest line is recorded in the catalog; lines without one leave it (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    const sent = await w.ingest([
      { series: 'home/meter/power', value: 1200, ts: at(0), unit: 'W' },
      { series: 'home/meter/power', value: 1300, ts: at(1) },
      { series: 'home/meter/energy', value: 10.5, ts: at(0), unit: 'kWh' },
      { series: 'home/room/temp', value: 21, ts: at(0) },
      { series: 'home/room/temp', value: 21, ts: at(1), unit: 12 },
    ]);
    assert.equal(sent.status, 400);
    assert.deepEqual(sent.body.invalid, [
      { line: 5, error: 'unit must be a string of 1–32 printable characters, e.g. "kWh"' },
    ]);
    const units = async () =>
      Object.fromEntries(
        (await w.request('/api/v1/series')).body.series.map((s: { key: string; unit: string | null }) => [
          s.key,
          s.unit,
        ]),
      );
    assert.deepEqual(await units(), { 'home/meter/energy': 'kWh', 'home/meter/power': 'W', 'home/room/temp': null });

    // a later line with another unit changes it; a line without one does not clear it
    await w.ingest([
      { series: 'home/meter/power', value: 1.3, ts: at(2), unit: 'kW' },
      { series: 'home/meter/energy', value: 10.6, ts: at(2) },
    ]);
    assert.deepEqual(await units(), { 'home/meter/energy': 'kWh', 'home/meter/power': 'kW', 'home/room/temp': null });
  });
}
