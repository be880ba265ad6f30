import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addDevice, DR, FLEX_SETTINGS, invite, MINUTE, sendJson, T0, testClock } from './flex-fixtures.js';
import { build, until } from './helpers.js';

// 11:00 London is T0: an hour later, in the building's zone, without an offset
const AT_NOON = '2024-06-03T12:00:00';
const NOON = T0 + 60 * MINUTE;

async function app(t: import('node:test').TestContext, overrides: Record<string, unknown> = {}) {
  const clock = testClock();
  const w = await build(t, { ...FLEX_SETTINGS, ...overrides }, undefined, { now: clock.now });
  return { w, clock };
}

test('invitation/send refuses each invalid field with a 400 naming it, and stores nothing', async (t) => {
  const { w } = await app(t);
  await addDevice(w, 'plug-1');
  const good = { event_time: AT_NOON, load_kwh: 5, load_percentage: 20, iots: ['plug-1'], duration_minutes: 30 };
  const check = async (change: Record<string, unknown>, field: string, pattern: RegExp) => {
    const body: Record<string, unknown> = { ...good, ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete body[k];
    const r = await w.request(`${DR}/invitation/send`, sendJson('POST', body));
    assert.equal(r.status, 400, `${JSON.stringify(change)}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.field, field, JSON.stringify(change));
    assert.match(r.body.error, pattern, JSON.stringify(change));
  };
  await check({ event_time: undefined }, 'event_time', /event_time/);
  await check({ event_time: 'tomorrow noon' }, 'event_time', /ISO 8601/);
  await check({ event_time: '2024-06-31T12:00:00' }, 'event_time', /not a real time/);
  await check({ event_time: '2024-06-03T10:30:00' }, 'event_time', /in the past/); // 10:30 London is before 11:00
  await check({ event_time: '2024-06-03T09:59:00Z' }, 'event_time', /in the past/); // an offset is taken as it is
  await check({ event_time: '2025-03-30T01:30:00' }, 'event_time', /does not exist in Europe\/London/);
  await check({ load_kwh: 0 }, 'load_kwh', /greater than 0/);
  await check({ load_kwh: -1 }, 'load_kwh', /greater than 0/);
  await check({ load_kwh: '5' }, 'load_kwh', /number/);
  await check({ load_kwh: undefined }, 'load_kwh', /load_kwh/);
  await check({ load_percentage: -0.5 }, 'load_percentage', /from 0 to 100/);
  await check({ load_percentage: 100.5 }, 'load_percentage', /from 0 to 100/);
  await check({ iots: [] }, 'iots', /at least one/);
  await check({ iots: ['plug-1', 'nope'] }, 'iots', /not registered sensors: nope/);
  await check({ iots: 'plug-1' }, 'iots', /array/);
  await check({ duration_minutes: 0 }, 'duration_minutes', /more than 0 and at most 120/);
  await check({ duration_minutes: 121 }, 'duration_minutes', /more than 0 and at most 120/);
  await check({ duration_minutes: 30.5 }, 'duration_minutes', /integer|whole/);
  await check({ colour: 'red' }, 'colour', /unknown field/);
  const listed = await w.request('/api/v1/flex/events');
  assert.deepEqual(listed.body.events, [], 'nothing stored');

  // the limits themselves are allowed: 0 % and 100 %, 120 minutes, now exactly, and the seed's default of 59
  const edge = await invite(w, {
    ...good,
    event_time: '2024-06-03T11:00:00',
    load_percentage: 0,
    duration_minutes: 120,
  });
  assert.equal(edge.event_time, '2024-06-03T11:00:00.000+01:00');
  const byDefault = await invite(w, { ...good, load_percentage: 100, duration_minutes: undefined });
  assert.equal(byDefault.duration_minutes, 59);
});
