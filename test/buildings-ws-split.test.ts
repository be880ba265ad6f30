import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { openLive, readingsOf, wsUrl } from './buildings-ws-client.js';
import { startCluster } from './cluster.js';
import { needService, services } from './services.js';

const KEY = 'buildings-ws-split-key-0001';
const T0 = Date.UTC(2024, 5, 1);
// readings travel ingest → NATS stream → persistor → commit notice → api process: more hops than in one process
const ACROSS_MS = 5000;

test('with ingest, persist and api in separate processes on NATS and PostgreSQL, a WebSocket client of the api process gets the readings posted to the ingest process', {
  timeout: 120_000,
}, async (t) => {
  if (!(await needService(t, 'postgres')) || !(await needService(t, 'nats'))) return;
  const { start, schema } = await startCluster(t, {
    name: 'bws',
    env: { WATTLINE_API_KEYS: KEY, WATTLINE_REQUIRE_READ_KEY: 'true' },
  });
  // one at a time: the first applies the migrations the others find applied
  const api = await start('api');
  const [ingest] = await Promise.all([start('ingest'), start('persist')]);

  // the registry is the api process's store: a sensor written there is resolved at subscribe time
  const db = new pg.Client({ connectionString: services.postgres.url });
  await db.connect();
  t.after(() => db.end());
  await db.query(
    `INSERT INTO ${schema}.building_sensors (sensor_id, name, sensor_type, room, series, tags, created_at, updated_at)
     VALUES ('meter-1', 'Main meter', 'power', NULL, 'site/main', '{}', $1, $1)`,
    [T0],
  );

  const live = await openLive(wsUrl(api.url), ['wattline', KEY]);
  t.after(() => live.ws.terminate());
  live.send({ action: 'subscribe', series: ['split/*'], sensors: ['meter-1'] });
  const ack = (await live.until((f) => f.type === 'subscribed', 'the subscribed ack', ACROSS_MS)).at(-1);
  assert.deepEqual(ack, { type: 'subscribed', sensors: ['meter-1'], rooms: [], series: ['split/*'] });

  const lines = [
    { series: 'split/a', value: 1, ts: T0 },
    { series: 'elsewhere', value: 2, ts: T0 + 1 },
    { series: 'site/main', value: 3, ts: T0 + 2 },
    { series: 'split/b', value: 4, ts: T0 + 3 },
  ];
  const posted = await fetch(`${ingest.url}/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson' },
    body: `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`,
  });
  assert.equal(posted.status, 200);
  const got = await live.until((f) => f.series === 'split/b', 'the readings from the ingest process', ACROSS_MS);
  assert.deepEqual(readingsOf(got), ['split/a=1', 'site/main=3 (meter-1)', 'split/b=4']);
  assert.equal(got[0].timestamp, new Date(T0).toISOString());
});
