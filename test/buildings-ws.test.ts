import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store } from '../src/core/store/index.js';
import { insertRoom, insertSensor, type Sensor, updateSensor } from '../src/modules/buildings/repository.js';
import { type Frame, type LiveClient, openLive, readingsOf, within, wsUrl } from './buildings-ws-client.js';
import { build, buildMode, MODES, type TestApp } from './helpers.js';

const T0 = Date.UTC(2024, 5, 1);

function sensor(sensorId: string, series: string, room: string | null): Sensor {
  return { sensorId, name: sensorId, sensorType: 'power', room, series, tags: {}, createdAt: T0, updatedAt: T0 };
}

async function registry(store: Store) {
  await insertRoom(store, { name: 'Lab 1', floor: 1, areaM2: null, description: null, createdAt: T0, updatedAt: T0 });
  await insertSensor(store, sensor('lab-power', 'lab/power', 'Lab 1'));
  await insertSensor(store, sensor('lab-temp', 'lab/temp', 'Lab 1'));
  await insertSensor(store, sensor('office-power', 'office/power', null));
}

/** Ingests `series=value` readings, then a `marker` reading: everything a client gets before the marker is all it gets. */
async function ingest(w: TestApp, readings: [string, number][]) {
  const lines = [...readings, ['marker', 0] as const].map(([series, value], i) => ({ series, value, ts: T0 + i }));
  const r = await w.ingest(lines);
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

const closeAll = (clients: LiveClient[]) => {
  for (const c of clients) c.ws.terminate();
};
const upToMarker = (c: LiveClient) => c.until((f) => f.series === 'marker', 'the marker reading');
const acked = (c: LiveClient) => c.until((f: Frame) => f.type === 'subscribed', 'the subscribed ack');

for (const mode of MODES) {
  test(`${mode}: subscriptions by series pattern, sensor and room get the readings ingested over /ingest, and unsubscribe stops them`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await registry(w.app.ctx.store);
    const byPattern = await openLive(wsUrl(w.url));
    const bySensor = await openLive(wsUrl(w.url));
    const byRoom = await openLive(wsUrl(w.url));
    t.after(() => closeAll([byPattern, bySensor, byRoom]));

    byPattern.send({ action: 'subscribe', series: ['home/*', 'marker'] });
    bySensor.send({ action: 'subscribe', sensors: ['office-power'], series: ['marker'] });
    byRoom.send({ action: 'subscribe', rooms: ['Lab 1'], series: ['marker'] });
    assert.deepEqual((await acked(byPattern)).at(-1), {
      type: 'subscribed',
      sensors: [],
      rooms: [],
      series: ['home/*', 'marker'],
    });
    assert.deepEqual((await acked(bySensor)).at(-1).sensors, ['office-power']);
    assert.deepEqual((await acked(byRoom)).at(-1).rooms, ['Lab 1']);

    await ingest(w, [
      ['home/a', 1],
      ['home/b/c', 2],
      ['homeX', 3],
      ['lab/power', 4],
      ['lab/temp', 5],
      ['office/power', 6],
      ['other', 7],
    ]);
    const patternGot = await upToMarker(byPattern);
    assert.deepEqual(readingsOf(patternGot), ['home/a=1', 'home/b/c=2', 'marker=0']);
    assert.deepEqual(patternGot[0], {
      type: 'reading',
      sensor_id: null,
      series: 'home/a',
      timestamp: new Date(T0).toISOString(),
      value: 1,
    });
    assert.deepEqual(readingsOf(await upToMarker(bySensor)), ['office/power=6 (office-power)', 'marker=0']);
    assert.deepEqual(readingsOf(await upToMarker(byRoom)), [
      'lab/power=4 (lab-power)',
      'lab/temp=5 (lab-temp)',
      'marker=0',
    ]);

    byPattern.send({ action: 'unsubscribe', series: ['home/*'] });
    byRoom.send({ action: 'unsubscribe', rooms: ['Lab 1'] });
    assert.deepEqual((await acked(byPattern)).at(-1).series, ['marker']);
    assert.deepEqual((await acked(byRoom)).at(-1).rooms, []);
    await ingest(w, [
      ['home/a', 8],
      ['lab/power', 9],
      ['office/power', 10],
    ]);
    assert.deepEqual(readingsOf(await upToMarker(byPattern)), ['marker=0']);
    assert.deepEqual(readingsOf(await upToMarker(byRoom)), ['marker=0']);
    assert.deepEqual(readingsOf(await upToMarker(bySensor)), ['office/power=10 (office-power)', 'marker=0']);
  });
}

test('a sensor moved to another series is followed once the registry says so on sensor_events', async (t) => {
  const w = await build(t);
  await registry(w.app.ctx.store);
  const c = await openLive(wsUrl(w.url));
  t.after(() => c.ws.terminate());
  c.send({ action: 'subscribe', sensors: ['office-power', 'not-yet'], series: ['marker'] });
  await acked(c);
  await updateSensor(w.app.ctx.store, { ...sensor('office-power', 'office/power-2', null), updatedAt: T0 + 1 });
  w.app.ctx.bus.broadcast('sensor_events', { type: 'sensor_updated', sensor_id: 'office-power' });
  // the refresh is asynchronous: readings on the new series arrive once it is done
  const deadline = Date.now() + 5000;
  for (;;) {
    await ingest(w, [['office/power-2', 1]]);
    const got = readingsOf(await upToMarker(c));
    if (got.includes('office/power-2=1 (office-power)')) break;
    assert.ok(Date.now() < deadline, 'the moved sensor was never followed');
  }
  await ingest(w, [['office/power', 2]]);
  assert.deepEqual(readingsOf(await upToMarker(c)), ['marker=0'], 'the old series is no longer the sensor’s');
});

test('room metrics published on energy_data reach the clients subscribed to that room only', async (t) => {
  const w = await build(t);
  await registry(w.app.ctx.store);
  const lab = await openLive(wsUrl(w.url));
  const other = await openLive(wsUrl(w.url));
  t.after(() => closeAll([lab, other]));
  lab.send({ action: 'subscribe', rooms: ['Lab 1'] });
  other.send({ action: 'subscribe', rooms: ['Kitchen'] });
  await acked(lab);
  await acked(other);
  const metrics = { type: 'room_metrics', room: 'Lab 1', metrics: { power_w: 120 }, at: new Date(T0).toISOString() };
  w.app.ctx.bus.broadcast('energy_data', metrics);
  w.app.ctx.bus.broadcast('energy_data', { ...metrics, room: 'Kitchen', metrics: { power_w: 5 } });
  assert.deepEqual((await lab.until((f) => f.type === 'room_metrics', 'room metrics')).at(-1), metrics);
  assert.equal((await other.until((f) => f.type === 'room_metrics', 'room metrics')).at(-1).room, 'Kitchen');
  assert.deepEqual(lab.frames, [], 'nothing of the other room');
});

test('a bad message gets an error frame naming the field, and the connection stays open', async (t) => {
  const w = await build(t);
  const c = await openLive(wsUrl(w.url));
  t.after(() => c.ws.terminate());
  const errorFor = async (message: unknown) => {
    c.send(message);
    return (await c.until((f) => f.type === 'error', `an error for ${JSON.stringify(message)}`)).at(-1);
  };
  assert.deepEqual(await errorFor('{not json'), { type: 'error', error: 'the message is not JSON', field: null });
  assert.equal((await errorFor({ action: 'listen' })).field, 'action');
  assert.equal((await errorFor({ action: 'subscribe', sensors: 'a' })).field, 'sensors');
  assert.equal((await errorFor({ action: 'subscribe', rooms: [1] })).field, 'rooms');
  const bad = await errorFor({ action: 'subscribe', series: ['ok', 'no spaces'] });
  assert.equal(bad.field, 'series');
  assert.match(bad.error, /"no spaces"/);
  assert.equal((await errorFor([1])).field, null);

  c.send({ action: 'subscribe', series: ['ok'] });
  assert.deepEqual((await acked(c)).at(-1).series, ['ok']);
  await ingest(w, [['ok', 1]]);
  assert.deepEqual(readingsOf(await c.until((f) => f.type === 'reading', 'a reading')), ['ok=1']);
});

test('a client that stops reading is closed with 1013 once it is wsMaxQueued messages behind, while another keeps receiving', async (t) => {
  const maxQueued = 1000;
  const w = await build(t, { 'buildings.wsMaxQueued': maxQueued });
  const fast = await openLive(wsUrl(w.url));
  const slow = await openLive(wsUrl(w.url));
  t.after(() => closeAll([fast, slow]));
  for (const c of [fast, slow]) {
    c.send({ action: 'subscribe', series: ['load/*'] });
    await acked(c);
  }
  // the slow client stops reading: first the kernel's buffers fill, then the server's
  (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  const cutCount = async () => {
    const text = await (await fetch(`${w.url}/metrics`)).text();
    return Number(/^ws_clients_cut_total (\d+)/m.exec(text)?.[1] ?? 0);
  };
  // rounds no larger than the bound: the fast client, reading everything between rounds, is never behind by more
  let round = 0;
  const sendRound = async () => {
    const lines = Array.from({ length: maxQueued }, (_, i) => ({ series: `load/${i % 5}`, value: i, ts: T0 + i }));
    assert.equal((await w.ingest(lines)).status, 200);
    round++;
    await fast.until(() => fast.frames.length >= maxQueued, `round ${round} on the fast client`, 5000);
    fast.frames.length = 0;
  };
  while ((await cutCount()) === 0) {
    assert.ok(round < 2000, 'the slow client was never cut');
    await sendRound();
  }
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  const { code, reason } = await within(slow.closed, 10_000, 'close of the slow client');
  assert.equal(code, 1013);
  assert.match(reason, /buildings\.wsMaxQueued \(1000\)/);
  await sendRound();
  assert.equal(fast.ws.readyState, fast.ws.OPEN, 'the fast client is still connected');
});

test('with reads requiring a key, the upgrade is refused 401 without a key and accepted with one in the subprotocol or ?key=', async (t) => {
  const w = await build(t, { requireReadKey: true });
  const created = await w.request('/api/v1/keys', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scope: 'read' }),
  });
  const key: string = created.body.key;
  await assert.rejects(openLive(wsUrl(w.url)), { status: 401 });
  await assert.rejects(openLive(wsUrl(w.url), ['wattline', 'wl_not-a-key']), { status: 401 });
  await assert.rejects(openLive(wsUrl(w.url, '?key=wl_not-a-key')), { status: 401 });

  const viaProtocol = await openLive(wsUrl(w.url), ['wattline', key]);
  t.after(() => viaProtocol.ws.terminate());
  assert.equal(viaProtocol.ws.protocol, 'wattline', 'the server answers with wattline, never the key');
  const viaQuery = await openLive(wsUrl(w.url, `?key=${encodeURIComponent(key)}`));
  t.after(() => viaQuery.ws.terminate());
  const viaHeader = await openLive(wsUrl(w.url), undefined, { headers: { authorization: `Bearer ${key}` } });
  t.after(() => viaHeader.ws.terminate());
  for (const c of [viaProtocol, viaQuery, viaHeader]) {
    c.send({ action: 'subscribe', series: ['k'] });
    await acked(c);
  }
  await ingest(w, [['k', 1]]);
  for (const c of [viaProtocol, viaQuery, viaHeader])
    assert.deepEqual(readingsOf(await c.until((f) => f.type === 'reading', 'a reading')), ['k=1']);

  // a plain GET is not an upgrade: it is told so, once the key let it in
  const plain = await w.request('/api/v1/ws', { headers: { authorization: `Bearer ${key}` } });
  assert.equal(plain.status, 426);
});

test('a client that does not answer pings is terminated by the next one', async (t) => {
  const w = await build(t, { 'buildings.wsPingMs': 1000 });
  const silent = await openLive(wsUrl(w.url), undefined, { autoPong: false });
  const polite = await openLive(wsUrl(w.url));
  t.after(() => closeAll([silent, polite]));
  let pinged = 0;
  polite.ws.on('ping', () => pinged++);
  const { code } = await within(silent.closed, 5000, 'termination of the silent client');
  assert.equal(code, 1006, 'terminated, not closed politely');
  assert.ok(pinged >= 1);
  assert.equal(polite.ws.readyState, polite.ws.OPEN, 'the client that answers stays');
});
