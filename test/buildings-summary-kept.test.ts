import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addRoom, addSensor } from './buildings-fixtures.js';
import { buildMode, MODES, type TestApp, until } from './helpers.js';

const M = 60_000;
const H = 60 * M;
/** Not on a 15-minute edge: the summary's range has open ends on both sides. */
const T0 = Date.UTC(2026, 0, 15, 2, 7, 30);
const iso = (ms: number) => new Date(ms).toISOString();

/** What the summary must say at `now`, read another way: every sensor's energy by /analytics/energy. */
async function energyByOtherRoute(w: TestApp, now: number, hours: number) {
  const r = await w.request(`/api/v1/analytics/energy?start=${iso(now - hours * H)}&end=${iso(now)}&tz=UTC`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.total.energy_kwh as number;
}

async function summary(w: TestApp, hours = 24) {
  const r = await w.request(`/api/v1/analytics/summary?hours=${hours}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as { total_energy_kwh: number; peak_power_w: number | null };
}

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9 * Math.max(1, Math.abs(b));

/** Waits until the summary agrees with the other route (a commit notice over NATS may take a moment). */
async function agrees(w: TestApp, now: number, peak: number, what: string) {
  let last: unknown;
  await until(
    async () => {
      const [s, expected] = await Promise.all([summary(w), energyByOtherRoute(w, now, 24)]);
      last = { summary: s.total_energy_kwh, expected, peak: s.peak_power_w, expectedPeak: peak };
      return close(s.total_energy_kwh, expected) && s.peak_power_w === peak;
    },
    10_000,
    () => `${what}: ${JSON.stringify(last)}`,
  );
}

for (const mode of MODES) {
  test(`${mode}: the summary's kept 15-minute figures follow new readings, late corrections and unit changes`, async (t) => {
    let now = T0;
    const w = await buildMode(t, mode, {}, { now: () => now });
    if (!w) return;
    await addRoom(w, 'A');
    await addSensor(w, 'p1', 'power', 'A');
    await addSensor(w, 'p2', 'power', 'A');
    await addSensor(w, 'e1', 'energy', 'A');
    const lines = [];
    for (let ts = T0 - 26 * H; ts <= T0; ts += M) {
      lines.push({ series: 'sensors/p1', ts, value: 2000 });
      lines.push({ series: 'sensors/p2', ts, value: ts < T0 - 2 * H ? 500 : 1000 });
      lines.push({ series: 'sensors/e1', ts, value: 100 + (ts - (T0 - 26 * H)) / H });
    }
    assert.equal((await w.ingest(lines)).status, 200);
    await agrees(w, now, 3000, 'first answer');
    // asked again: the kept slots answer the same
    await agrees(w, now, 3000, 'second answer');

    // 40 minutes later, with readings up to then: the slot that was open at T0 is read again
    const later = [];
    for (let ts = T0 + M; ts <= T0 + 40 * M; ts += M) {
      later.push({ series: 'sensors/p1', ts, value: 5000 });
      later.push({ series: 'sensors/p2', ts, value: 1000 });
      later.push({ series: 'sensors/e1', ts, value: 126 + (ts - T0) / H });
    }
    assert.equal((await w.ingest(later)).status, 200);
    now = T0 + 40 * M;
    await agrees(w, now, 6000, 'after new readings');

    // a late correction inside a finished, kept slot: 3 hours ago p1 read 100 kW
    assert.equal((await w.ingest([{ series: 'sensors/p1', ts: T0 - 3 * H, value: 100_000 }])).status, 200);
    await agrees(w, now, 100_500, 'after a late correction');

    // two minutes on, in the same 15 minutes: the range's head (from its start to the first slot
    // edge) comes from that slot's kept readings, cut at a different start
    now = T0 + 42 * M;
    await agrees(w, now, 100_500, 'two minutes on');
    // a late correction inside that head: the kept slot is dropped
    assert.equal((await w.ingest([{ series: 'sensors/p1', ts: now - 24 * H + 5 * M, value: 100_000 }])).status, 200);
    await agrees(w, now, 100_500, 'after a late correction in the head of the range');

    // the sensor's series said to be in kW: every kept figure of it changes by 1000
    const put = await w.request('/api/v1/series/sensors/p2', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ unit: 'kW' }),
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    await agrees(w, now, 1_005_000, 'after p2 is said to be in kW');
  });
}
