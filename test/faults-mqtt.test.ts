import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { build, until } from './helpers.js';
import { canRunPrivate, privateMosquitto } from './private-services.js';

const T0 = Date.UTC(2026, 2, 1);
const SERIES = 'faults/mqtt/meter';

test('Mosquitto restarted under steady publishing: the subscriber resumes its session, /ready reports the outage, nothing acknowledged is lost', {
  timeout: 120_000,
}, async (t) => {
  if (!canRunPrivate('mosquitto')) {
    const reason = 'cannot run a private mosquitto here (binary missing)';
    if (process.env.REQUIRE_SERVICES === '1') throw new Error(`${reason} (REQUIRE_SERVICES=1)`);
    return t.skip(reason);
  }
  const broker = await privateMosquitto(t);
  const w = await build(t, {
    'mqtt.url': broker.url,
    'mqtt.clientId': 'wattline-faults',
    'mqtt.subscriptions': JSON.stringify([{ topic: 'faults/#', format: 'json' }]),
  });
  const mqttState = async () =>
    ((await w.request('/ready')).body as { connections?: { mqtt?: { status: string } } }).connections?.mqtt?.status;
  await until(async () => (await mqttState()) === 'ok', 10_000, '/ready to list the broker as ok');

  // a device publishing with QoS 1, counting what the broker acknowledged (PUBACK), as a device would
  let sent = 0;
  let acked = 0;
  const ackedIndexes: number[] = [];
  let publishing = true;
  const device = (async () => {
    while (publishing) {
      const client = await mqtt
        // a connect that lands while the broker is still starting may get no CONNACK: give up after
        // 2 s and try again (mqtt.js waits 30 s by default, past this test's patience on a busy machine)
        .connectAsync(broker.url, { clientId: 'faults-device', reconnectPeriod: 0, connectTimeout: 2_000 })
        .catch(() => undefined);
      if (!client) {
        await new Promise((r) => setTimeout(r, 100)); // the broker is away: try again shortly
        continue;
      }
      client.on('error', () => undefined);
      try {
        while (publishing && client.connected) {
          const i = sent++;
          const puback = client.publishAsync(
            'faults/meter',
            JSON.stringify({ series: SERIES, ts: T0 + i * 1000, value: i }),
            { qos: 1 },
          );
          // a publish in flight when the broker dies may never settle (no PUBACK, no error, with
          // reconnectPeriod 0): after 2 s it counts as not acknowledged and the device reconnects
          const settled = await Promise.race([
            puback.then(
              () => true,
              () => false,
            ),
            new Promise<false>((r) => setTimeout(() => r(false), 2_000)),
          ]);
          if (!settled) break;
          acked++;
          ackedIndexes.push(i);
          await new Promise((r) => setTimeout(r, 5));
        }
      } catch {
        // the broker went away mid-publish: that message was not acknowledged, so it does not count
      } finally {
        client.end(true);
      }
    }
  })();

  await until(() => acked >= 200, 20_000, 'the device to get going');
  await broker.stop();
  await until(async () => (await mqttState()) === 'unavailable', 10_000, '/ready to report the broker away');
  const ready = await w.request('/ready');
  assert.equal(ready.status, 200, 'HTTP ingest and queries still work: the process stays ready');
  assert.equal((await w.ingest([{ series: 'faults/http', ts: T0, value: 1 }])).status, 200);
  await new Promise((r) => setTimeout(r, 2_000));
  const ackedBeforeRestart = acked;
  await broker.start();
  await until(() => acked >= ackedBeforeRestart + 200, 20_000, 'the device to publish again after the restart');
  await until(async () => (await mqttState()) === 'ok', 20_000, 'the subscriber to reconnect by itself');
  publishing = false;
  await device;

  // messages published while the subscriber was still reconnecting waited in its session on the
  // restarted broker: had it not been resumed, they would be missing here
  const stored = async () => {
    const q = `/api/v1/query?series=${SERIES}&start=${T0}&end=${T0 + sent * 1000}&limit=100000`;
    const body = (await w.request(q)).body as { results: { points: { time: string; value: number }[] }[] };
    return body.results[0].points.map((p) => p.value);
  };
  await until(async () => (await stored()).length >= acked, 20_000, 'every acknowledged message to be stored').catch(
    () => undefined, // the assertions say what is missing
  );
  const values = await stored();
  const missing = ackedIndexes.filter((i) => !values.includes(i));
  assert.deepEqual(missing, [], `${missing.length} of ${acked} acknowledged messages missing`);
  // one reading per message: one that reached the broker just as it stopped may be stored unacknowledged
  assert.equal(new Set(values).size, values.length, 'no reading stored twice');
  assert.ok(values.length <= sent);
});
