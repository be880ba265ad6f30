import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DateTime } from 'luxon';
import { addDevice, DR, FLEX_SETTINGS, invite, jsonInit, MINUTE, T0, testClock, ZONE } from './flex-fixtures.js';
import { build, until } from './helpers.js';

const NOON = T0 + 60 * MINUTE; // Monday 3 June 2024, 12:00 London
const local = (date: string, time: string) => DateTime.fromISO(`${date}T${time}`, { zone: ZONE }).toMillis();

/**
 * plug-1, a W gauge read every 15 minutes from Monday 20 May to the event's end: 2000 W (1 kWh a
 * half-hour) except 400 W from 12:00 to 12:30 on the event day (0.2 kWh in its one half-hour).
 */
function readings() {
  const out: { series: string; ts: number; value: number }[] = [];
  for (let ts = local('2024-05-20', '00:00'); ts <= NOON + 30 * MINUTE; ts += 15 * MINUTE)
    out.push({ series: 'sensors/plug-1', ts, value: ts >= NOON ? 400 : 2000 });
  return out;
}

test('the report of a completed event and its benefit, by hand: baseline 1 kWh (10 clean working days), actual 0.2, delivered 0.8; 409 before it completes; the forecast of the next day', async (t) => {
  const clock = testClock();
  const w = await build(t, { ...FLEX_SETTINGS, 'flex.rewardPerKwh': 0.25 }, undefined, { now: clock.now });
  await addDevice(w, 'plug-1');
  await w.request(`${DR}/iot/demandresponse/enable`, jsonInit('POST', { iot: 'plug-1', enable: true }));
  assert.equal((await w.ingest(readings())).status, 200);
  const e = await invite(w, {
    event_time: '2024-06-03T12:00:00',
    load_kwh: 2,
    load_percentage: 10,
    iots: ['plug-1'],
    duration_minutes: 30,
  });
  await w.request(`${DR}/invitation/answer`, jsonInit('POST', { event_id: e.event_id, response: 'YES' }));

  const early = await w.request(`/api/v1/flex/events/${e.event_id}/report`);
  assert.equal(early.status, 409);
  assert.equal(early.body.code, 'event_scheduled');
  assert.match(early.body.error, /is scheduled: its report is made once it is completed/);
  const earlyBenefit = await w.request(`${DR}/dr/benefit`, jsonInit('POST', { event_id: e.event_id }));
  assert.equal(earlyBenefit.status, 409);
  assert.equal((await w.request('/api/v1/flex/events/nope/report')).status, 404);

  clock.ms = NOON + 30 * MINUTE;
  await until(
    async () => (await w.request('/api/v1/flex/events?status=completed')).body.events.length === 1,
    10_000,
    'the event to complete',
  );
  const r = await w.request(`/api/v1/flex/events/${e.event_id}/report`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const round = (x: number) => Math.round(x * 1e9) / 1e9;
  const slots = r.body.slots.map((s: Record<string, number | string>) => ({
    ...s,
    baseline_kwh: round(s.baseline_kwh as number),
    actual_kwh: round(s.actual_kwh as number),
    delivered_kwh: round(s.delivered_kwh as number),
  }));
  assert.deepEqual(slots, [
    { time: '2024-06-03T12:00:00.000+01:00', baseline_kwh: 1, actual_kwh: 0.2, delivered_kwh: 0.8 },
  ]);
  assert.equal(round(r.body.total_delivered_kwh), 0.8);
  assert.equal(r.body.requested_kwh, 2);
  assert.equal(round(r.body.delivered_share), 0.4);
  assert.equal(round(r.body.benefit), 0.2); // 0.25 a kWh × 0.8 kWh
  assert.equal(r.body.baseline_method, 'BL01');
  assert.equal(r.body.baseline, 'complete');
  assert.equal(r.body.incomplete, false);
  assert.equal(r.body.reason, null);
  // the 10 working days before: Friday 31 May back to Monday 20 May, the weekend left out
  assert.deepEqual(r.body.days_used, [
    '2024-05-20',
    '2024-05-21',
    '2024-05-22',
    '2024-05-23',
    '2024-05-24',
    '2024-05-27',
    '2024-05-28',
    '2024-05-29',
    '2024-05-30',
    '2024-05-31',
  ]);
  assert.deepEqual(
    r.body.devices.map((d: { id: string; total_delivered_kwh: number }) => [d.id, round(d.total_delivered_kwh)]),
    [['plug-1', 0.8]],
  );

  const benefit = await w.request(`${DR}/dr/benefit`, jsonInit('POST', { event_time: '2024-06-03T12:00:00' }));
  assert.equal(benefit.status, 200, JSON.stringify(benefit.body));
  assert.deepEqual(
    {
      ...benefit.body,
      benefit: round(benefit.body.benefit),
      total_delivered_kwh: round(benefit.body.total_delivered_kwh),
    },
    {
      event_id: e.event_id,
      event_time: '2024-06-03T12:00:00.000+01:00',
      total_delivered_kwh: 0.8,
      requested_kwh: 2,
      reward_per_kwh: 0.25,
      benefit: 0.2,
      baseline: 'complete',
      incomplete: false,
    },
  );
  const nameless = await w.request(`${DR}/dr/benefit`, jsonInit('POST', {}));
  assert.equal(nameless.status, 400);
  assert.equal(nameless.body.field, 'event_id');

  // Tuesday 4 June: 2000 W on the 10 working days before it but the event's day (3 June, an event
  // answered YES: left out) → 1 kWh a half-hour → 2 kW to shed at participation, all 48 half-hours
  const forecast = await w.request(`${DR}/forecast/flexibility?date=2024-06-04`);
  assert.equal(forecast.status, 200, JSON.stringify(forecast.body));
  assert.equal(forecast.body.slots.length, 48);
  assert.deepEqual(forecast.body.slots[0], { time: '2024-06-04T00:00:00.000+01:00', flexibility_kw: 2 });
  assert.ok(forecast.body.slots.every((s: { flexibility_kw: number }) => round(s.flexibility_kw) === 2));
  assert.equal(forecast.body.baseline, 'complete');
  assert.ok(!forecast.body.days_used.includes('2024-06-03'), 'the event day is left out');
  assert.equal(forecast.body.devices[0].iot, 'plug-1');
  assert.equal(forecast.body.devices[0].share, 1);
  const noDate = await w.request(`${DR}/forecast/flexibility`);
  assert.equal(noDate.status, 400);
  assert.equal(noDate.body.field, 'date');
  const badDate = await w.request(`${DR}/forecast/flexibility?date=2024-02-30`);
  assert.equal(badDate.body.field, 'date');
});
