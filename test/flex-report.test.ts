import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DateTime } from 'luxon';
import { dayBaseline, eventReport, type ReportInput } from '../src/modules/flex/report.js';
import { buildMode, MODES, sendJson, type TestApp, until } from './helpers.js';

// March 2026: Sunday the 1st, Thursday the 19th; London is on GMT (UTC) until 29 March.
const ZONE = 'Europe/London';
const M = 60_000;
const at = (date: string, time: string) => DateTime.fromISO(`${date}T${time}`, { zone: ZONE }).toMillis();
const FIRST_DAY = '2026-01-01';
const EVENT_DAY = '2026-03-19';
const isWeekend = (date: string) => DateTime.fromISO(date).weekday >= 6;
const dayOfMonth = (date: string) => Number(date.slice(8));
const isEventTime = (time: string) => time === '17:00' || time === '17:30';
const inAdjustmentWindow = (time: string) => time >= '13:00' && time < '16:00';

/**
 * Device p1, a power gauge in W read every 15 minutes: 2000 W throughout (1 kWh a half-hour),
 * except no readings from 03:15 to 04:45 on 12 March (a 2-hour gap, longer than energy.maxGapMs:
 * 03:00–05:00 unknown) and 1000 W at 17:15, 17:30 and 17:45 on the event day.
 */
function powerReadings() {
  const out: { series: string; ts: number; value: number }[] = [];
  const end = at(EVENT_DAY, '20:00');
  for (let ts = at(FIRST_DAY, '00:00'); ts <= end; ts += 15 * M) {
    const local = DateTime.fromMillis(ts, { zone: ZONE });
    const [date, time] = [local.toISODate()!, local.toFormat('HH:mm')];
    if (date === '2026-03-12' && time > '03:00' && time < '05:00') continue;
    const shed = date === EVENT_DAY && time >= '17:15' && time <= '17:45';
    out.push({ series: 'sensors/p1', ts, value: shed ? 1000 : 2000 });
  }
  return out;
}

/**
 * kWh device e1 uses in the half-hour starting at `time`: 0.5, except at 17:00 and 17:30 on a
 * working day (its day of the month ÷ 10; 9 on a working day before March, which no baseline may
 * take), 0.2 on weekends; on the event day 0.3 and 0.4 during the event and 0.8 in the same-day
 * adjustment's window (13:00–16:00).
 */
function counterKwh(date: string, time: string): number {
  if (date === EVENT_DAY) return time === '17:00' ? 0.3 : time === '17:30' ? 0.4 : inAdjustmentWindow(time) ? 0.8 : 0.5;
  if (isWeekend(date)) return 0.2;
  if (!isEventTime(time)) return 0.5;
  return date < '2026-03-01' ? 9 : dayOfMonth(date) / 10;
}

/**
 * Device e1, a kWh counter read on every half-hour (each reading adds the half-hour just ended),
 * except no readings at 10:30, 11:00 and 11:30 on 10 March: a 2-hour gap, so 10:00–12:00 unknown.
 */
function counterReadings() {
  const out: { series: string; ts: number; value: number }[] = [];
  let total = 1000;
  const end = at(EVENT_DAY, '20:00');
  for (let ts = at(FIRST_DAY, '00:00'); ts <= end; ts += 30 * M) {
    const local = DateTime.fromMillis(ts, { zone: ZONE });
    const [date, time] = [local.toISODate()!, local.toFormat('HH:mm')];
    if (!(date === '2026-03-10' && time > '10:00' && time < '12:00'))
      out.push({ series: 'sensors/e1', ts, value: total });
    total += counterKwh(date, time);
  }
  return out;
}

async function ingestAll(w: TestApp, lines: { series: string; ts: number; value: number }[]) {
  for (let i = 0; i < lines.length; i += 5000) {
    const r = await w.ingest(lines.slice(i, i + 5000));
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
}

/** A building with the two metered devices and a temperature sensor, their readings stored. */
async function building(w: TestApp) {
  for (const [sensor_id, sensor_type] of [
    ['p1', 'power'],
    ['e1', 'energy'],
    ['t1', 'temperature'],
  ])
    await sendJson(w, 'POST', '/api/v1/sensors', { sensor_id, name: sensor_id, sensor_type });
  const power = powerReadings();
  const counter = counterReadings();
  await ingestAll(w, [...power, ...counter, { series: 'sensors/t1', ts: at(EVENT_DAY, '12:00'), value: 21 }]);
  const stored = async () =>
    new Map((await w.app.readings.catalog(['sensors/p1', 'sensors/e1'])).map((e) => [e.key, e.count]));
  await until(
    async () => {
      const counts = await stored();
      return counts.get('sensors/p1') === power.length && counts.get('sensors/e1') === counter.length;
    },
    30_000,
    'the readings to be stored',
  );
}

const near = (actual: number | null | undefined, expected: number, what: string) =>
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

const DEVICES = [
  { id: 'p1', series: 'sensors/p1' },
  { id: 'e1', series: 'sensors/e1' },
  { id: 't1', series: 'sensors/t1' },
];

for (const mode of MODES) {
  test(`${mode}: an event's report by hand — BL01 per device and over their sum from one energy read, delivered, share and benefit, with and without the same-day adjustment`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await building(w);
    const input: ReportInput = {
      readings: w.app.readings,
      zone: ZONE,
      // Thursday 19 March 17:00 for an hour: the half-hours 17:00 and 17:30
      event: { startMs: at(EVENT_DAY, '17:00'), durationMinutes: 60, loadKwh: 2 },
      devices: DEVICES,
      eventDays: new Set(['2026-03-17']), // another event on Tuesday the 17th
      holidays: new Set(),
      rewardPerKwh: 0.3,
      sameDayAdjustment: false,
    };
    // every device's energy comes from ONE call of the energy functions, in local half-hours
    const calls: { keys: readonly string[]; window?: string; zone: string }[] = [];
    const { energy } = w.app.readings;
    input.readings = {
      ...w.app.readings,
      energy: {
        ...energy,
        energy: (keys, range, unit) => {
          calls.push({ keys, window: range.window, zone: range.zone });
          return energy.energy(keys, range, unit);
        },
      },
    };
    const report = await eventReport(input);
    assert.deepEqual(calls, [{ keys: ['sensors/p1', 'sensors/e1'], window: '30m', zone: ZONE }]);
    const [p1, e1, t1] = report.devices;
    const slotTimes = [at(EVENT_DAY, '17:00'), at(EVENT_DAY, '17:30')];

    // p1: the 10 working days before the 19th without the 17th (event) and the 12th (its gap):
    // 18, 16, 13, 11, 10, 9, 6, 5, 4, 3. Baseline 2 kW × 0.5 h = 1 kWh a half-hour. Actual 17:00:
    // 17:00–17:15 from 2000 to 1000 W = 1500 W × 0.25 h = 0.375, 17:15–17:30 1000 W × 0.25 h = 0.25
    // → 0.625 kWh; 17:30 the same the other way round → 0.625. Delivered 0.375 + 0.375 = 0.75 kWh.
    assert.equal(p1.id, 'p1');
    assert.equal(p1.baseline, 'complete');
    assert.deepEqual(p1.daysUsed.map(dayOfMonth), [3, 4, 5, 6, 9, 10, 11, 13, 16, 18]);
    assert.deepEqual(
      p1.slots.map((s) => s.time),
      slotTimes,
    );
    for (const s of p1.slots) {
      near(s.baselineKwh, 1, 'p1 baseline');
      near(s.actualKwh, 0.625, 'p1 actual');
      near(s.deliveredKwh, 0.375, 'p1 delivered');
    }
    near(p1.totalDeliveredKwh, 0.75, 'p1 total');

    // e1 has every half-hour of the 12th but not of the 10th (its gap): 18, 16, 13, 12, 11, 9, 6, 5,
    // 4, 3 → (3 + 4 + 5 + 6 + 9 + 11 + 12 + 13 + 16 + 18) / 100 = 0.97 kWh at 17:00 and at 17:30;
    // delivered (0.97 − 0.3) + (0.97 − 0.4) = 0.67 + 0.57 = 1.24 kWh
    assert.deepEqual(e1.daysUsed.map(dayOfMonth), [3, 4, 5, 6, 9, 11, 12, 13, 16, 18]);
    near(e1.slots[0].baselineKwh, 0.97, 'e1 baseline 17:00');
    near(e1.slots[1].baselineKwh, 0.97, 'e1 baseline 17:30');
    near(e1.slots[0].actualKwh, 0.3, 'e1 actual 17:00');
    near(e1.slots[1].actualKwh, 0.4, 'e1 actual 17:30');
    near(e1.totalDeliveredKwh, 1.24, 'e1 total');

    // t1 holds temperatures: no baseline, the reason given, and left out of the total
    assert.equal(t1.baseline, 'none');
    assert.match(t1.reason ?? '', /sensors\/t1.*neither power nor energy/);
    assert.equal(t1.totalDeliveredKwh, 0);

    // the total: BL01 of p1 + e1, a day lacking either's half-hour left out (the 12th and the 10th):
    // 18, 16, 13, 11, 9, 6, 5, 4, 3, 2. 17:00 baseline 1 + (2 + 3 + 4 + 5 + 6 + 9 + 11 + 13 + 16 +
    // 18) / 100 = 1 + 0.87 = 1.87 kWh, the same at 17:30; actual 0.625 + 0.3 = 0.925 and 0.625 +
    // 0.4 = 1.025; delivered 0.945 + 0.845 = 1.79 kWh (not p1's + e1's 0.75 + 1.24 = 1.99: the
    // total's days are its own)
    assert.equal(report.baseline, 'complete');
    assert.equal(report.incomplete, false);
    assert.deepEqual(report.daysUsed.map(dayOfMonth), [2, 3, 4, 5, 6, 9, 11, 13, 16, 18]);
    assert.deepEqual(
      report.slots.map((s) => s.time),
      slotTimes,
    );
    near(report.slots[0].baselineKwh, 1.87, 'total baseline 17:00');
    near(report.slots[1].baselineKwh, 1.87, 'total baseline 17:30');
    near(report.slots[0].actualKwh, 0.925, 'total actual 17:00');
    near(report.slots[1].actualKwh, 1.025, 'total actual 17:30');
    near(report.slots[0].deliveredKwh, 0.945, 'total delivered 17:00');
    near(report.slots[1].deliveredKwh, 0.845, 'total delivered 17:30');
    near(report.totalDeliveredKwh, 1.79, 'total delivered');
    assert.equal(report.requestedKwh, 2);
    near(report.deliveredShare, 1.79 / 2, 'share'); // 0.895
    near(report.benefit, 0.3 * 1.79, 'benefit'); // 0.537
    assert.equal(report.baselineMethod, 'BL01');
    assert.equal(report.adjustment, undefined);

    // with the same-day adjustment, over 13:00–16:00 of the event day: p1 used 6 × 1 = 6 kWh against
    // a baseline of 6 (factor 1); e1 6 × 0.8 = 4.8 against 6 × 0.5 = 3 (factor 1.6); the total 10.8
    // against 9 (factor 1.2). Total baseline 1.87 × 1.2 = 2.244 a half-hour, delivered (2.244 −
    // 0.925) + (2.244 − 1.025) = 1.319 + 1.219 = 2.538 kWh. e1: 0.97 × 1.6 = 1.552, delivered
    // (1.552 − 0.3) + (1.552 − 0.4) = 1.252 + 1.152 = 2.404.
    const adjusted = await eventReport({ ...input, sameDayAdjustment: true });
    near(adjusted.adjustment, 1.2, 'total factor');
    near(adjusted.devices[0].adjustment, 1, 'p1 factor');
    near(adjusted.devices[1].adjustment, 1.6, 'e1 factor');
    assert.equal(adjusted.devices[2].adjustment, null);
    near(adjusted.slots[0].baselineKwh, 2.244, 'adjusted total baseline');
    near(adjusted.totalDeliveredKwh, 2.538, 'adjusted total delivered');
    near(adjusted.devices[1].totalDeliveredKwh, 2.404, 'adjusted e1 delivered');
    near(adjusted.benefit, 0.3 * 2.538, 'adjusted benefit');
    assert.equal(adjusted.baselineMethod, 'BL01 with same-day adjustment');
  });

  test(`${mode}: in a zone 45 minutes off UTC the half-hours are local ones (Asia/Kathmandu, +5:45)`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await sendJson(w, 'POST', '/api/v1/sensors', { sensor_id: 'k1', name: 'k1', sensor_type: 'energy' });
    // a counter read every 15 minutes UTC, using 0.1, 0.2, 0.3, 0.4 kWh in the quarters from 11:00Z
    const base = Date.UTC(2026, 2, 19, 11, 0);
    const used = [0, 0.1, 0.2, 0.3, 0.4];
    const lines = used.map((_, i) => ({
      series: 'sensors/k1',
      ts: base + i * 15 * M,
      value: 50 + used.slice(0, i + 1).reduce((a, b) => a + b, 0),
    }));
    await ingestAll(w, lines);
    await until(async () => (await w.app.readings.catalog(['sensors/k1']))[0]?.count === lines.length);
    // 17:00 local is 11:15Z: the half-hour to 11:45Z used 0.2 + 0.3 = 0.5 kWh (an epoch-aligned
    // 11:00–11:30Z bucket would say 0.1 + 0.2 = 0.3)
    const report = await eventReport({
      readings: w.app.readings,
      zone: 'Asia/Kathmandu',
      event: { startMs: Date.UTC(2026, 2, 19, 11, 15), durationMinutes: 30, loadKwh: 1 },
      devices: [{ id: 'k1', series: 'sensors/k1' }],
      eventDays: new Set(),
      holidays: new Set(),
      rewardPerKwh: 1,
      sameDayAdjustment: false,
    });
    assert.deepEqual(
      report.slots.map((s) => s.time),
      [Date.UTC(2026, 2, 19, 11, 15)],
    );
    near(report.slots[0].actualKwh, 0.5, 'actual 17:00 local');
    assert.equal(report.baseline, 'none', 'no earlier days: no baseline');
    assert.match(report.reason ?? '', /only 0 working days/);
    assert.equal(report.slots[0].deliveredKwh, null);
    assert.equal(report.totalDeliveredKwh, 0);
    assert.equal(report.deliveredShare, 0);
  });

  test(`${mode}: a day's baseline for the forecast — every half-hour, per device and in total`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await building(w);
    // Friday 20 March, the 19th and 17th had events: p1's days are 18, 16, 13, 11, 10, 9, 6, 5, 4, 3
    // (the 12th has its gap), e1's 18, 16, 13, 12, 11, 9, 6, 5, 4, 3 (the 10th has its gap), the
    // total's 18, 16, 13, 11, 9, 6, 5, 4, 3, 2 → 17:00: 1 + 87 / 100
    const day = await dayBaseline({
      readings: w.app.readings,
      zone: ZONE,
      devices: DEVICES,
      eventDays: new Set(['2026-03-17', '2026-03-19']),
      holidays: new Set(),
      date: '2026-03-20',
    });
    assert.equal(day.baseline, 'complete');
    assert.equal(day.slots.length, 48);
    assert.equal(day.slots[0].time, at('2026-03-20', '00:00'));
    const slot = (slots: { time: number; baselineKwh: number | null }[], time: string) =>
      slots.find((s) => s.time === at('2026-03-20', time))?.baselineKwh;
    near(slot(day.slots, '10:00'), 1 + 0.5, 'total 10:00');
    near(slot(day.slots, '17:00'), 1 + 0.87, 'total 17:00');
    const [p1, e1, t1] = day.devices;
    near(slot(p1.slots, '17:00'), 1, 'p1 17:00');
    near(slot(e1.slots, '17:00'), 0.97, 'e1 17:00');
    near(slot(e1.slots, '03:00'), 0.5, 'e1 03:00');
    assert.ok(
      t1.slots.every((s) => s.baselineKwh === null),
      'no baseline of temperatures',
    );
  });
}
