import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from './helpers.js';

test('a key is taken as a bearer token, as InfluxDB’s Token, as the basic user (cloud-lada) or as the basic password (InfluxDB clients)', async (t) => {
  const w = await build(t);
  const send = (authorization: string) =>
    fetch(`${w.url}/ingest`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify({ series: 'a', value: 1, ts: 1_700_000_000_000 })}\n`,
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  assert.equal((await send(`Bearer ${w.key}`)).status, 200);
  assert.equal((await send(`Token ${w.key}`)).status, 200);
  assert.equal((await send(basic(w.key, ''))).status, 200);
  assert.equal((await send(basic('telegraf', w.key))).status, 200);
  assert.equal((await send(basic(w.key, 'anything'))).status, 200, 'the key as user, whatever the password');
  const wrong = await send(basic('telegraf', 'not-a-key'));
  assert.equal(wrong.status, 401);
  assert.match(wrong.body.error, /invalid api key/);
  assert.equal((await send('Token ')).status, 401);
});
