import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { addDevice, DR, FLEX_SETTINGS, invite, MINUTE, placeFor, jsonInit, T0, testClock } from './flex-fixtures.js';
import { build, MODES, type Mode, until } from './helpers.js';

// 11:00 London is T0: an hour later, in the building's zone, without an offset
const AT_NOON = '2024-06-03T12:00:00';
const NOON = T0 + 60 * MINUTE;

async function app(t: TestContext, overrides: Record<string, unknown> = {}) {
  const clock = testClock();
  const w = await build(t, { ...FLEX_SETTINGS, ...overrides }, undefined, { now: clock.now });
  return { w, clock };
}

/** The app in a mode (server mode: PostgreSQL, skipped without it). */
async function appIn(t: TestContext, mode: Mode) {
  const place = await placeFor(t, mode);
  if (!place) return undefined;
  const clock = testClock();
  const w = await build(t, { ...FLEX_SETTINGS, ...place.overrides }, place.dataDir, { now: clock.now });
  return { w, clock };
}

test('invitation/send refuses each invalid field with a 400 naming it, and stores nothing', async (t) => {
  const { w } = await app(t);
  await addDevice(w, 'plug-1');
  const good = { event_time: AT_NOON, load_kwh: 5, load_percentage: 20, iots: ['plug-1'], duration_minutes: 30 };
  const check = async (change: Record<string, unknown>, field: string, pattern: RegExp) => {
    const body: Record<string, unknown> = { ...good, ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete body[k];
    const r = await w.request(`${DR}/invitation/send`, jsonInit('POST', body));
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

for (const mode of MODES) {
  test(`${mode}: without auto-answer an invitation waits: get, unanswered, answer YES or NO (nothing else), answered lists the last 5 newest event first`, async (t) => {
    const { w } = (await appIn(t, mode)) ?? {};
    if (!w) return;
    await addDevice(w, 'plug-1');
    assert.deepEqual((await w.request(`${DR}/invitation/auto`)).body, { auto_answer: false });
    const sent = await invite(w, { event_time: AT_NOON, load_kwh: 5, load_percentage: 20, iots: ['plug-1'] });
    assert.deepEqual(
      { ...sent, event_id: typeof sent.event_id },
      {
        event_id: 'string',
        datetime: '2024-06-03T11:00:00.000+01:00',
        event_time: '2024-06-03T12:00:00.000+01:00',
        end_time: '2024-06-03T12:59:00.000+01:00',
        load_kwh: 5,
        load_percentage: 20,
        iots: ['plug-1'],
        duration_minutes: 59,
        response: 'WAITING',
        status: 'scheduled',
        answered_at: null,
        updated_at: '2024-06-03T11:00:00.000+01:00',
      },
    );
    // the same instant named with an offset finds it too
    const got = await w.request(`${DR}/invitation/get`, jsonInit('POST', { event_time: '2024-06-03T11:00:00Z' }));
    assert.equal(got.status, 200);
    assert.equal(got.body.event_id, sent.event_id);
    const missing = await w.request(`${DR}/invitation/get`, jsonInit('POST', { event_time: '2024-06-03T13:00:00' }));
    assert.equal(missing.status, 404);
    assert.equal(missing.body.field, 'event_time');
    const clash = await w.request(
      `${DR}/invitation/send`,
      jsonInit('POST', { event_time: AT_NOON, load_kwh: 1, load_percentage: 1, iots: ['plug-1'] }),
    );
    assert.equal(clash.status, 409, 'one invitation per event time');

    const unanswered = await w.request(`${DR}/invitation/unanswered`);
    assert.deepEqual(
      unanswered.body.invitations.map((i: { event_id: string }) => i.event_id),
      [sent.event_id],
    );
    assert.deepEqual((await w.request(`${DR}/invitation/answered`)).body, { invitations: [] });

    for (const response of ['MAYBE', 'yes', null, true]) {
      const r = await w.request(`${DR}/invitation/answer`, jsonInit('POST', { event_id: sent.event_id, response }));
      assert.equal(r.status, 400, JSON.stringify(response));
      assert.equal(r.body.field, 'response');
    }
    const nameless = await w.request(`${DR}/invitation/answer`, jsonInit('POST', { response: 'YES' }));
    assert.equal(nameless.status, 400);
    assert.equal(nameless.body.field, 'event_id');
    const unknown = await w.request(`${DR}/invitation/answer`, jsonInit('POST', { event_id: 'nope', response: 'YES' }));
    assert.equal(unknown.status, 404);

    const yes = await w.request(`${DR}/invitation/answer`, jsonInit('POST', { event_time: AT_NOON, response: 'YES' }));
    assert.equal(yes.status, 200, JSON.stringify(yes.body));
    assert.equal(yes.body.response, 'YES');
    assert.equal(yes.body.answered_at, '2024-06-03T11:00:00.000+01:00');
    const no = await w.request(
      `${DR}/invitation/answer`,
      jsonInit('POST', { event_id: sent.event_id, response: 'NO' }),
    );
    assert.equal(no.body.response, 'NO', 'an answer may change until the event ends');
    assert.deepEqual((await w.request(`${DR}/invitation/unanswered`)).body, { invitations: [] });

    // six more invitations over the next days, answered in a scrambled order: the newest 5 events come back
    const times = [3, 1, 6, 2, 5, 4].map((d) => `2024-06-0${3 + d}T09:00:00`);
    for (const [i, event_time] of times.entries()) {
      const e = await invite(w, { event_time, load_kwh: 1, load_percentage: 10, iots: ['plug-1'] });
      const r = await w.request(
        `${DR}/invitation/answer`,
        jsonInit('POST', { event_id: e.event_id, response: i % 2 ? 'YES' : 'NO' }),
      );
      assert.equal(r.status, 200);
    }
    const answered = await w.request(`${DR}/invitation/answered`);
    assert.deepEqual(
      answered.body.invitations.map((i: { event_time: string }) => i.event_time.slice(0, 10)),
      ['2024-06-09', '2024-06-08', '2024-06-07', '2024-06-06', '2024-06-05'],
    );
  });
}

test('with auto-answer on a new invitation is YES at once and one already waiting is answered YES by the auto-answer job; off again, new ones wait', async (t) => {
  const { w } = await app(t);
  await addDevice(w, 'plug-1');
  const waiting = await invite(w, { event_time: AT_NOON, load_kwh: 5, load_percentage: 20, iots: ['plug-1'] });
  assert.equal(waiting.response, 'WAITING');
  const on = await w.request(`${DR}/invitation/auto`, jsonInit('POST', { auto_answer: true }));
  assert.deepEqual(on.body, { auto_answer: true });
  assert.deepEqual((await w.request(`${DR}/invitation/auto`)).body, { auto_answer: true });
  const auto = await invite(w, {
    event_time: '2024-06-03T13:00:00',
    load_kwh: 5,
    load_percentage: 20,
    iots: ['plug-1'],
  });
  assert.equal(auto.response, 'YES');
  assert.equal(auto.answered_at, '2024-06-03T11:00:00.000+01:00');
  await until(
    async () => (await w.request(`${DR}/invitation/unanswered`)).body.invitations.length === 0,
    10_000,
    'the waiting invitation to be answered by the auto-answer job',
  );
  const got = await w.request(`${DR}/invitation/get`, jsonInit('POST', { event_time: AT_NOON }));
  assert.equal(got.body.response, 'YES');

  const bad = await w.request(`${DR}/invitation/auto`, jsonInit('POST', { auto_answer: 'yes' }));
  assert.equal(bad.status, 400);
  assert.equal(bad.body.field, 'auto_answer');
  assert.deepEqual((await w.request(`${DR}/invitation/auto`, jsonInit('POST', { auto_answer: false }))).body, {
    auto_answer: false,
  });
  const after = await invite(w, {
    event_time: '2024-06-03T14:00:00',
    load_kwh: 5,
    load_percentage: 20,
    iots: ['plug-1'],
  });
  assert.equal(after.response, 'WAITING');
});

for (const mode of MODES) {
  test(`${mode}: answering or cancelling a completed or cancelled event is a 409 naming its status`, async (t) => {
    const started = await appIn(t, mode);
    if (!started) return;
    const { w, clock } = started;
    await addDevice(w, 'plug-1');
    const e = await invite(w, {
      event_time: AT_NOON,
      load_kwh: 5,
      load_percentage: 20,
      iots: ['plug-1'],
      duration_minutes: 30,
    });
    const other = await invite(w, {
      event_time: '2024-06-04T12:00:00',
      load_kwh: 5,
      load_percentage: 20,
      iots: ['plug-1'],
    });
    clock.ms = NOON + 30 * MINUTE;
    const status = async (id: string) =>
      (await w.request('/api/v1/flex/events')).body.events.find((x: { event_id: string }) => x.event_id === id)?.status;
    await until(async () => (await status(e.event_id)) === 'completed', 10_000, 'the event to complete');
    const late = await w.request(
      `${DR}/invitation/answer`,
      jsonInit('POST', { event_id: e.event_id, response: 'YES' }),
    );
    assert.equal(late.status, 409);
    assert.equal(late.body.code, 'event_completed');
    assert.match(late.body.error, /is completed: it cannot be answered/);
    const cancelDone = await w.request(`/api/v1/flex/events/${e.event_id}/cancel`, { method: 'POST' });
    assert.equal(cancelDone.status, 409);

    const cancelled = await w.request(`/api/v1/flex/events/${other.event_id}/cancel`, { method: 'POST' });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    const answer = await w.request(
      `${DR}/invitation/answer`,
      jsonInit('POST', { event_id: other.event_id, response: 'NO' }),
    );
    assert.equal(answer.status, 409);
    assert.equal(answer.body.code, 'event_cancelled');
    assert.equal((await w.request('/api/v1/flex/events/nope/cancel', { method: 'POST' })).status, 404);

    // listing by status and time range
    const done = await w.request('/api/v1/flex/events?status=completed');
    assert.deepEqual(
      done.body.events.map((x: { event_id: string }) => x.event_id),
      [e.event_id],
    );
    const onThe4th = await w.request('/api/v1/flex/events?from=2024-06-04&to=2024-06-05');
    assert.deepEqual(
      onThe4th.body.events.map((x: { event_id: string }) => x.event_id),
      [other.event_id],
    );
    const badStatus = await w.request('/api/v1/flex/events?status=done');
    assert.equal(badStatus.status, 400);
    assert.equal(badStatus.body.field, 'status');
    const badFrom = await w.request('/api/v1/flex/events?from=yesterday');
    assert.equal(badFrom.body.field, 'from');
  });
}

for (const mode of MODES) {
  test(`${mode}: instructions, the demand-response switch and event/check: who takes part and with what share`, async (t) => {
    const { w } = (await appIn(t, mode)) ?? {};
    if (!w) return;
    for (const id of ['plug-1', 'heater', 'fridge', 'pump']) await addDevice(w, id);
    const post = (path: string, body: unknown) => w.request(`${DR}${path}`, jsonInit('POST', body));

    // never set: off, participation
    const fresh = await w.request(`${DR}/iot/instructions?iot=pump`);
    assert.deepEqual(fresh.body.instructions, [
      { iot: 'pump', demandresponse: false, instruction: 'participation', shifting_percentage: null, share: 0 },
    ]);
    for (const [body, field] of [
      [{ iot: 'heater', instruction: 'shifting' }, 'shifting_percentage'],
      [{ iot: 'heater', instruction: 'shifting', shifting_percentage: 21 }, 'shifting_percentage'],
      [{ iot: 'heater', instruction: 'shifting', shifting_percentage: -1 }, 'shifting_percentage'],
      [{ iot: 'heater', instruction: 'off', shifting_percentage: 10 }, 'shifting_percentage'],
      [{ iot: 'heater', instruction: 'sometimes' }, 'instruction'],
      [{ iot: 'nope', instruction: 'off' }, 'iot'],
    ] as const) {
      const r = await post('/iot/instructions', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.field, field, JSON.stringify(body));
    }
    const unknownEnable = await post('/iot/demandresponse/enable', { iot: 'nope', enable: true });
    assert.equal(unknownEnable.status, 400);
    assert.equal(unknownEnable.body.field, 'iot');

    for (const id of ['plug-1', 'heater', 'fridge']) {
      const r = await post('/iot/demandresponse/enable', { iot: id, enable: true });
      assert.equal(r.body.demandresponse, true);
    }
    assert.deepEqual(
      (await post('/iot/instructions', { iot: 'heater', instruction: 'shifting', shifting_percentage: 15 })).body,
      {
        iot: 'heater',
        demandresponse: true,
        instruction: 'shifting',
        shifting_percentage: 15,
        share: 0.15,
      },
    );
    await post('/iot/instructions', { iot: 'fridge', instruction: 'off' });
    // several at once, as the seed posted them ({instructions: {<iot>: …}}): all checked before any is changed
    const bulk = (instructions: Record<string, unknown>) => post('/iot/instructions', { instructions });
    const tooMuch = await bulk({ pump: 'off', heater: { instruction: 'shifting', shifting_percentage: 30 } });
    assert.equal(tooMuch.status, 400);
    assert.equal(tooMuch.body.field, 'instructions.heater');
    const unknownDevice = await bulk({ pump: 'off', nope: 'off' });
    assert.equal(unknownDevice.status, 400);
    assert.equal(unknownDevice.body.field, 'instructions.nope');
    const noPercentage = await bulk({ pump: 'shifting' });
    assert.equal(noPercentage.body.field, 'instructions.pump');
    const mixed = await post('/iot/instructions', { iot: 'pump', instruction: 'off', instructions: {} });
    assert.equal(mixed.body.field, 'instructions');
    assert.equal(
      (await w.request(`${DR}/iot/instructions?iot=pump`)).body.instructions[0].instruction,
      'participation',
    );
    const both = await bulk({ pump: { instruction: 'shifting', shifting_percentage: 5 }, heater: 'off' });
    assert.deepEqual(
      both.body.instructions.map((d: { iot: string; instruction: string }) => [d.iot, d.instruction]),
      [
        ['pump', 'shifting'],
        ['heater', 'off'],
      ],
    );
    await bulk({ heater: { instruction: 'shifting', shifting_percentage: 15 } });
    await post('/iot/instructions', { instructions: { pump: 'participation' } }); // but demand response stays off
    const all = await w.request(`${DR}/iot/instructions`);
    assert.deepEqual(
      all.body.instructions.map((d: { iot: string; share: number }) => `${d.iot}=${d.share}`),
      ['fridge=0', 'heater=0.15', 'plug-1=1', 'pump=0'],
    );

    const e = await invite(w, {
      event_time: AT_NOON,
      load_kwh: 5,
      load_percentage: 20,
      iots: ['plug-1', 'heater', 'fridge', 'pump'],
    });
    const check = async (iot: string) => (await post('/event/check', { event_time: AT_NOON, iot })).body;
    assert.equal((await check('plug-1')).reason, 'the invitation is answered WAITING');
    await post('/invitation/answer', { event_id: e.event_id, response: 'YES' });
    assert.deepEqual(await check('plug-1'), {
      event_id: e.event_id,
      event_time: '2024-06-03T12:00:00.000+01:00',
      iot: 'plug-1',
      participates: true,
      share: 1,
      instruction: 'participation',
      shifting_percentage: null,
      demandresponse: true,
      response: 'YES',
      status: 'scheduled',
      reason: null,
    });
    const heater = await check('heater');
    assert.deepEqual([heater.participates, heater.share], [true, 0.15]);
    const fridge = await check('fridge');
    assert.deepEqual([fridge.participates, fridge.share, fridge.reason], [false, 0, 'its instruction is off']);
    const pump = await check('pump');
    assert.deepEqual([pump.participates, pump.reason], [false, 'demand response is disabled for this device']);
    await addDevice(w, 'lamp');
    assert.equal((await check('lamp')).reason, 'the invitation does not name this device');
    const none = await post('/event/check', { event_time: '2024-06-03T15:00:00', iot: 'plug-1' });
    assert.equal(none.status, 404);
    // switched off again: the instruction stays, the share is 0
    await post('/iot/demandresponse/enable', { iot: 'plug-1', enable: false });
    assert.deepEqual(
      [(await check('plug-1')).participates, (await check('plug-1')).instruction],
      [false, 'participation'],
    );

    const listed = await w.request('/api/v1/flex/events');
    assert.deepEqual(
      listed.body.events[0].devices.map((d: { iot: string; share: number }) => `${d.iot}=${d.share}`),
      ['plug-1=0', 'heater=0.15', 'fridge=0', 'pump=0'],
    );
  });
}

test('flexibility now: each device its last 15 minutes of average power × its share, checked by hand', async (t) => {
  const { w } = await app(t);
  await addDevice(w, 'plug-1'); // W gauge, participation
  await addDevice(w, 'heater', 'energy'); // kWh counter, shifting 15 %
  await addDevice(w, 'oven'); // W gauge, off
  await addDevice(w, 'idle'); // W gauge, participation, no reading in the last 15 minutes
  const post = (path: string, body: unknown) => w.request(`${DR}${path}`, jsonInit('POST', body));
  for (const id of ['plug-1', 'heater', 'oven', 'idle'])
    await post('/iot/demandresponse/enable', { iot: id, enable: true });
  await post('/iot/instructions', { iot: 'heater', instruction: 'shifting', shifting_percentage: 15 });
  await post('/iot/instructions', { iot: 'oven', instruction: 'off' });

  const at = (minutesBefore: number) => T0 - minutesBefore * MINUTE;
  const readings = [
    // plug: 9000 W 20 minutes ago (outside the window), then 1200 and 1800 W: mean 1.5 kW
    { series: 'sensors/plug-1', ts: at(20), value: 9000 },
    { series: 'sensors/plug-1', ts: at(10), value: 1200 },
    { series: 'sensors/plug-1', ts: at(5), value: 1800 },
    // heater: a counter rising 0.05 kWh a minute for 30 minutes up to now: 0.75 kWh in 15 minutes = 3 kW
    ...Array.from({ length: 31 }, (_, i) => ({ series: 'sensors/heater', ts: at(30 - i), value: 100 + 0.05 * i })),
    { series: 'sensors/oven', ts: at(3), value: 2500 },
    { series: 'sensors/idle', ts: at(40), value: 700 },
  ];
  assert.equal((await w.ingest(readings)).status, 200);
  const r = await w.request(`${DR}/energy/flexibility`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const round = (x: number | null) => (x === null ? null : Math.round(x * 1e6) / 1e6);
  assert.deepEqual(
    r.body.devices.map(
      (d: { iot: string; recent_power_kw: number | null; share: number; flexibility_kw: number | null }) => [
        d.iot,
        round(d.recent_power_kw),
        d.share,
        round(d.flexibility_kw),
      ],
    ),
    [
      ['heater', 3, 0.15, 0.45],
      ['idle', null, 1, null],
      ['oven', 2.5, 0, 0],
      ['plug-1', 1.5, 1, 1.5],
    ],
  );
  assert.equal(round(r.body.total_kw), 1.95);
  assert.equal(r.body.window_minutes, 15);
  assert.equal(r.body.at, new Date(T0).toISOString());

  // demand response switched off: nothing to shed, whatever the instruction
  await post('/iot/demandresponse/enable', { iot: 'plug-1', enable: false });
  const off = await w.request(`${DR}/energy/flexibility`);
  assert.equal(round(off.body.total_kw), 0.45);
});

test('with reads needing a key: no key 401, a read key reads but cannot send, answer or switch (403), a write key can', async (t) => {
  const { w } = await app(t, { requireReadKey: true });
  await addDevice(w, 'plug-1');
  const key = async (scope: string) =>
    (await w.request('/api/v1/keys', jsonInit('POST', { scope }))).body.key as string;
  const read = await key('read');
  const write = await key('write');
  const as = (k: string | null, init: RequestInit = {}) => ({
    ...init,
    headers: { ...(init.headers as Record<string, string>), authorization: k === null ? '' : `Bearer ${k}` },
  });
  const invitation = { event_time: AT_NOON, load_kwh: 5, load_percentage: 20, iots: ['plug-1'] };
  const send = (k: string | null) => w.request(`${DR}/invitation/send`, as(k, jsonInit('POST', invitation)));
  assert.equal((await send(null)).status, 401);
  assert.equal((await send(read)).status, 403);
  const sent = await send(write);
  assert.equal(sent.status, 201);
  for (const [path, init] of [
    ['/invitation/unanswered', {}],
    ['/invitation/answered', {}],
    ['/invitation/auto', {}],
    ['/iot/instructions', {}],
    ['/energy/flexibility', {}],
    ['/invitation/get', jsonInit('POST', { event_time: AT_NOON })],
    ['/event/check', jsonInit('POST', { event_time: AT_NOON, iot: 'plug-1' })],
  ] as const) {
    assert.equal((await w.request(`${DR}${path}`, as(null, init))).status, 401, path);
    assert.equal((await w.request(`${DR}${path}`, as(read, init))).status, 200, path);
  }
  for (const [path, body] of [
    ['/invitation/answer', { event_id: sent.body.event_id, response: 'YES' }],
    ['/invitation/auto', { auto_answer: true }],
    ['/iot/demandresponse/enable', { iot: 'plug-1', enable: true }],
    ['/iot/instructions', { iot: 'plug-1', instruction: 'off' }],
  ] as const) {
    assert.equal((await w.request(`${DR}${path}`, as(read, jsonInit('POST', body)))).status, 403, path);
    assert.equal((await w.request(`${DR}${path}`, as(write, jsonInit('POST', body)))).status, 200, path);
  }
  const cancel = `/api/v1/flex/events/${sent.body.event_id}/cancel`;
  assert.equal((await w.request(cancel, as(read, { method: 'POST' }))).status, 403);
  assert.equal((await w.request('/api/v1/flex/events', as(null))).status, 401);
  assert.equal((await w.request('/api/v1/flex/events', as(read))).status, 200);
  assert.equal((await w.request(cancel, as(write, { method: 'POST' }))).status, 200);
});
