import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { Bus } from '../src/core/bus/index.js';
import type { DrMessage } from '../src/modules/flex/index.js';
import { openLive, wsUrl } from './buildings-ws-client.js';
import { addDevice, DR, FLEX_SETTINGS, invite, MINUTE, placeFor, jsonInit, T0, testClock } from './flex-fixtures.js';
import { build, MODES, type TestApp, tempDir, until } from './helpers.js';

const NOON = T0 + 60 * MINUTE; // 12:00 London
const local = (ms: number) => new Date(ms + 3_600_000).toISOString().slice(0, 19); // London is UTC+1 in June: a time without an offset

/** Every `dr_events` message an app broadcasts, in order. */
/** Every `dr_events` message from the bus's opening on: the scheduler's run at start included. */
function recordDr(): { seen: DrMessage[]; onBusOpen: (bus: Bus) => void } {
  const seen: DrMessage[] = [];
  return { seen, onBusOpen: (bus) => bus.subscribe<DrMessage>('dr_events', (m) => seen.push(m)) };
}

/** `change id` of each dr_event message (ids shortened to the names the test gave them). */
const changes = (messages: DrMessage[], names: Record<string, string>) =>
  messages.filter((m) => m.type === 'dr_event').map((m) => `${m.change} ${names[m.event_id] ?? m.event_id}`);

async function statusOf(w: TestApp, id: string): Promise<{ status: string; response: string }> {
  const events = (await w.request('/api/v1/flex/events')).body.events as {
    event_id: string;
    status: string;
    response: string;
  }[];
  const e = events.find((x) => x.event_id === id)!;
  return { status: e.status, response: e.response };
}

async function start(
  t: TestContext,
  clock: { now: () => number },
  place: { dataDir: string; overrides: Record<string, unknown> } = { dataDir: tempDir(), overrides: {} },
  overrides = {},
) {
  const { seen, onBusOpen } = recordDr();
  const w = await build(t, { ...FLEX_SETTINGS, ...place.overrides, ...overrides }, place.dataDir, {
    now: clock.now,
    onBusOpen,
  });
  return { w, seen };
}

for (const mode of MODES) {
  test(`${mode}: an event moves scheduled → active at its start → completed at its end, from the injected clock; unanswered at start becomes NO; devices are told to start and stop`, async (t) => {
    const place = await placeFor(t, mode);
    if (!place) return;
    const clock = testClock();
    const { w, seen } = await start(t, clock, place);
    await addDevice(w, 'plug-1');
    await addDevice(w, 'heater');
    await w.request(`${DR}/iot/demandresponse/enable`, jsonInit('POST', { iot: 'plug-1', enable: true }));
    await w.request(`${DR}/iot/demandresponse/enable`, jsonInit('POST', { iot: 'heater', enable: true }));
    await w.request(
      `${DR}/iot/instructions`,
      jsonInit('POST', { iot: 'heater', instruction: 'shifting', shifting_percentage: 15 }),
    );
    const a = await invite(w, {
      event_time: local(NOON),
      load_kwh: 4,
      load_percentage: 10,
      iots: ['plug-1', 'heater'],
      duration_minutes: 30,
    });
    await w.request(`${DR}/invitation/answer`, jsonInit('POST', { event_id: a.event_id, response: 'YES' }));
    const b = await invite(w, {
      event_time: local(NOON + 10 * MINUTE),
      load_kwh: 4,
      load_percentage: 10,
      iots: ['plug-1'],
      duration_minutes: 30,
    });
    const names: Record<string, string> = { [a.event_id]: 'A', [b.event_id]: 'B' };
    const saw = (change: string) => until(() => changes(seen, names).includes(change), 10_000, change);

    // the scheduler keeps running, but nothing is due before noon
    clock.ms = NOON - 1;
    assert.deepEqual(await statusOf(w, a.event_id), { status: 'scheduled', response: 'YES' });
    clock.ms = NOON;
    await saw('active A');
    assert.deepEqual(await statusOf(w, a.event_id), { status: 'active', response: 'YES' });
    assert.deepEqual(await statusOf(w, b.event_id), { status: 'scheduled', response: 'WAITING' });
    clock.ms = NOON + 10 * MINUTE;
    await saw('active B');
    assert.deepEqual(await statusOf(w, b.event_id), { status: 'active', response: 'NO' }, 'unanswered at start: NO');
    clock.ms = NOON + 30 * MINUTE;
    await saw('completed A');
    clock.ms = NOON + 40 * MINUTE;
    await saw('completed B');
    assert.deepEqual(await statusOf(w, b.event_id), { status: 'completed', response: 'NO' });

    // a gate instead of a sleep: once a later event has started, any repeat would have shown before it
    const gate = await invite(w, { event_time: local(clock.ms), load_kwh: 1, load_percentage: 1, iots: ['plug-1'] });
    names[gate.event_id] = 'gate';
    await saw('active gate');
    assert.deepEqual(changes(seen, names), [
      'created A',
      'answered A',
      'created B',
      'active A',
      'active B',
      'completed A',
      'completed B',
      'created gate',
      'active gate',
    ]);
    const metrics = (await w.request('/metrics')).body as string;
    for (const [change, n] of [
      ['created', 3],
      ['answered', 1],
      ['active', 3],
      ['completed', 2],
    ] as const)
      assert.match(metrics, new RegExp(`^flex_event_changes_total\\{change="${change}"\\} ${n}$`, 'm'), change);
    const devices = seen
      .filter((m) => m.type === 'dr_device')
      .map((m) => `${m.state} ${names[m.event_id]} ${m.sensor_id} ${m.share}`);
    // B was answered NO: its devices are never told; the gate's device takes part with no answer given: NO
    assert.deepEqual(devices, ['start A plug-1 1', 'start A heater 0.15', 'stop A plug-1 0', 'stop A heater 0']);
    const active = seen.find((m) => m.type === 'dr_event' && m.change === 'active');
    assert.deepEqual(
      active && active.type === 'dr_event' && [active.at, active.event.status, active.event.event_time],
      [new Date(NOON).toISOString(), 'active', '2024-06-03T12:00:00.000+01:00'],
    );
  });

  test(`${mode}: a restart in the middle neither skips nor repeats a transition, and a process down through start and end does both on its first run`, async (t) => {
    const dataDir = await placeFor(t, mode);
    if (!dataDir) return;
    const clock = testClock();
    const first = await start(t, clock, dataDir);
    await addDevice(first.w, 'plug-1');
    const a = await invite(first.w, {
      event_time: local(NOON),
      load_kwh: 4,
      load_percentage: 10,
      iots: ['plug-1'],
      duration_minutes: 30,
    });
    const b = await invite(first.w, {
      event_time: local(NOON + 60 * MINUTE),
      load_kwh: 4,
      load_percentage: 10,
      iots: ['plug-1'],
      duration_minutes: 30,
    });
    const names: Record<string, string> = { [a.event_id]: 'A', [b.event_id]: 'B' };
    clock.ms = NOON;
    await until(() => changes(first.seen, names).includes('active A'), 10_000, 'A to start');
    await first.w.app.close();

    // back up while A is still on: A is not started again
    clock.ms = NOON + 5 * MINUTE;
    const second = await start(t, clock, dataDir);
    const gate = await invite(second.w, {
      event_time: local(clock.ms),
      load_kwh: 1,
      load_percentage: 1,
      iots: ['plug-1'],
      duration_minutes: 10,
    });
    names[gate.event_id] = 'gate';
    await until(() => changes(second.seen, names).includes('active gate'), 10_000, 'the gate event to start');
    assert.deepEqual(changes(second.seen, names), ['created gate', 'active gate']);
    assert.deepEqual(await statusOf(second.w, a.event_id), { status: 'active', response: 'NO' });
    await second.w.app.close();

    // down through B's start and end (and A's and the gate's ends): all of them on the first run, each once, in order
    clock.ms = NOON + 100 * MINUTE;
    const third = await start(t, clock, dataDir);
    await until(() => changes(third.seen, names).includes('completed B'), 10_000, 'B to complete');
    const late = await invite(third.w, {
      event_time: local(clock.ms),
      load_kwh: 1,
      load_percentage: 1,
      iots: ['plug-1'],
    });
    names[late.event_id] = 'late';
    await until(() => changes(third.seen, names).includes('active late'), 10_000, 'the late event to start');
    assert.deepEqual(changes(third.seen, names), [
      'active B',
      'completed A',
      'completed gate',
      'completed B',
      'created late',
      'active late',
    ]);
    assert.deepEqual(await statusOf(third.w, b.event_id), { status: 'completed', response: 'NO' });
    // across the three processes, every transition of A and B exactly once
    const all = [...first.seen, ...second.seen, ...third.seen];
    for (const change of ['active A', 'completed A', 'active B', 'completed B'])
      assert.equal(changes(all, names).filter((c) => c === change).length, 1, change);
  });
}

test('with flex.unansweredAtStart YES an invitation still waiting at the start takes part', async (t) => {
  const clock = testClock();
  const { w, seen } = await start(t, clock, undefined, { 'flex.unansweredAtStart': 'YES' });
  await addDevice(w, 'plug-1');
  await w.request(`${DR}/iot/demandresponse/enable`, jsonInit('POST', { iot: 'plug-1', enable: true }));
  const a = await invite(w, { event_time: local(NOON), load_kwh: 4, load_percentage: 10, iots: ['plug-1'] });
  clock.ms = NOON;
  await until(() => seen.some((m) => m.type === 'dr_device'), 10_000, 'the device to be told');
  assert.deepEqual(await statusOf(w, a.event_id), { status: 'active', response: 'YES' });
});

test('a WebSocket client of /api/v1/ws receives each dr_event change and the device shares live', async (t) => {
  const clock = testClock();
  const { w } = await start(t, clock);
  await addDevice(w, 'plug-1');
  await w.request(`${DR}/iot/demandresponse/enable`, jsonInit('POST', { iot: 'plug-1', enable: true }));
  const live = await openLive(wsUrl(w.url));
  t.after(() => live.ws.terminate());
  const a = await invite(w, {
    event_time: local(NOON),
    load_kwh: 4,
    load_percentage: 10,
    iots: ['plug-1'],
    duration_minutes: 15,
  });
  const next = async (what: string, match: (f: Record<string, unknown>) => boolean) =>
    (await live.until(match, what, 10_000)).at(-1);
  const created = await next('created', (f) => f.type === 'dr_event' && f.change === 'created');
  assert.equal(created.event_id, a.event_id);
  assert.equal(created.event.response, 'WAITING');
  await w.request(`${DR}/invitation/answer`, jsonInit('POST', { event_id: a.event_id, response: 'YES' }));
  assert.equal((await next('answered', (f) => f.change === 'answered')).event.response, 'YES');
  clock.ms = NOON;
  assert.equal((await next('active', (f) => f.change === 'active')).event.status, 'active');
  const told = await next('dr_device start', (f) => f.type === 'dr_device');
  assert.deepEqual(
    [told.state, told.sensor_id, told.share, told.until],
    ['start', 'plug-1', 1, '2024-06-03T12:15:00.000+01:00'],
  );
  clock.ms = NOON + 15 * MINUTE;
  assert.equal((await next('completed', (f) => f.change === 'completed')).event.status, 'completed');
  assert.deepEqual((await next('dr_device stop', (f) => f.type === 'dr_device')).state, 'stop');
});
