import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { build, until } from './helpers.js';

const events = fs.readFileSync(
  path.join(import.meta.dirname, '..', 'src', 'modules', 'sensorlog', 'testcases', 'events.txt'),
  'utf8',
);
const [line1, line2] = events.split('\n');

test('/log/parse takes a line as text/plain, with no content type, or as a JSON string', async (t) => {
  const w = await build(t);
  for (const [contentType, body] of [
    ['text/plain', line1],
    [undefined, line1],
    ['application/json', JSON.stringify(line1)],
  ] as const) {
    const r = await w.request('/log/parse', {
      method: 'POST',
      headers: contentType ? { 'content-type': contentType } : {},
      body,
    });
    assert.equal(r.status, 200, `${contentType}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.Power.Active, 1753);
    assert.equal(r.body.Line.Phase, -43.841);
  }
  const bad = await w.request('/log/parse', {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'Device:',
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /Device/);
});

test('/log/store keeps good lines, names bad ones by line, and publishes the numbers as readings', async (t) => {
  const w = await build(t);
  const r = await w.request('/log/store', {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: `${line1}\nPower: nonsense\n${line2}\n`,
  });
  assert.equal(r.status, 400);
  assert.equal(r.body.stored, 2);
  assert.equal(r.body.errors[0].line, 2);
  const latest = await w.request('/api/v1/series/sensorlog/1/power_active_w/latest');
  // lines 1 and 2 carry the same second: as readings, the later line's value wins
  assert.equal(latest.body.value, 1800);
  const ok = await w.request('/log/store', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: line1 });
  assert.deepEqual(ok.body, {});
});

test('/log/store takes a parsed event as JSON, also double-encoded, and a single bad event gets {"error"}', async (t) => {
  const w = await build(t);
  const parsed = (
    await w.request('/log/parse', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: line1 })
  ).body;
  for (const body of [JSON.stringify(parsed), JSON.stringify(JSON.stringify(parsed))]) {
    const r = await w.request('/log/store', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.deepEqual(r.body, {});
  }
  const missing = await w.request('/log/store', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Device: { ID: 1 } }),
  });
  assert.equal(missing.status, 400);
  assert.match(missing.body.error, /Power/);
});

test('writes need a write key unless WATTLINE_SENSORLOG_OPEN is on', async (t) => {
  const closed = await build(t);
  assert.equal(
    (
      await closed.request('/log/store', {
        method: 'POST',
        headers: { authorization: '', 'content-type': 'text/plain' },
        body: line1,
      })
    ).status,
    401,
  );
  const open = await build(t, { 'sensorlog.open': true });
  assert.equal(
    (
      await open.request('/log/store', {
        method: 'POST',
        headers: { authorization: '', 'content-type': 'text/plain' },
        body: line1,
      })
    ).status,
    200,
  );
});

test('storing events.txt clusters it off the request path into groups near the ones energy-sensors found', {
  timeout: 120_000,
}, async (t) => {
  const w = await build(t);
  const r = await w.request('/log/store', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: events });
  assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
  const [{ n }] = await w.app.ctx.store.query<{ n: number }>('SELECT count(*) AS n FROM sensor_events');
  assert.equal(n, 1000);
  // 1000 stored events (sensorlog.clusterEvery) start a run in a worker thread
  let clusters: { label: number; count: number; avg_power_active_w: number }[] = [];
  await until(
    async () => (clusters = (await w.request('/clusters/summary')).body.clusters).length > 0,
    60_000,
    'a clustering run',
  );
  const groups = clusters.filter((c) => c.label >= 0);
  assert.ok(groups.length >= 3 && groups.length <= 6, `${groups.length} clusters`);
  assert.equal(
    clusters.reduce((a, c) => a + c.count, 0),
    1000,
  );
  // every cluster's mean active power is near one of SEEDS §5's groups (270, 1230, 1720, 2300, 3590 W)
  const near = (w: number) => [270, 1230, 1720, 2300, 3590].find((g) => Math.abs(w - g) <= g * 0.15);
  for (const c of groups) assert.ok(near(c.avg_power_active_w), `a cluster at ${Math.round(c.avg_power_active_w)} W`);
  for (const g of [270, 1720, 2300])
    assert.ok(
      groups.some((c) => near(c.avg_power_active_w) === g),
      `a cluster near ${g} W`,
    );
  const outliers = await w.request('/api/v1/sensorlog/events?cluster=-1');
  assert.equal(outliers.body.events.length, clusters.find((c) => c.label === -1)?.count ?? 0);
  assert.ok(outliers.body.events.every((e: { cluster: number }) => e.cluster === -1));
});

const text = (body: string) => ({ method: 'POST', headers: { 'content-type': 'text/plain' }, body });
// issue #11: 200 KB of this took 23 s to parse and held up every other request meanwhile
const hostile = `a${' a'.repeat(100_000)}!`;

test('a log line over sensorlog.maxLineBytes is refused by name, and /log/store keeps the other lines', async (t) => {
  const w = await build(t);
  const parse = await w.request('/log/parse', text(hostile));
  assert.equal(parse.status, 400);
  assert.deepEqual(parse.body, {
    error: 'log line is 200002 bytes long; at most 4096 bytes are accepted (sensorlog.maxLineBytes)',
    code: 'log_line_too_long',
    field: 'body',
  });
  const store = await w.request('/log/store', text(`${line1}\n${hostile}\n${line2}`));
  assert.equal(store.status, 400);
  assert.deepEqual(store.body, {
    stored: 2,
    errors: [{ line: 2, error: 'line is 200002 bytes long; at most 4096 bytes are accepted (sensorlog.maxLineBytes)' }],
  });
  const [{ n }] = await w.app.ctx.store.query<{ n: number }>('SELECT count(*) AS n FROM sensor_events');
  assert.equal(Number(n), 2);
  // the limit is a setting, and counts bytes: line 1 is 457
  const small = await build(t, { 'sensorlog.maxLineBytes': 456 });
  assert.equal((await small.request('/log/parse', text(line1))).status, 400);
  assert.equal((await small.request('/log/parse', text(line1.replace('Dummy: 20', 'Dummy: 2')))).status, 200);
});

test('a body over sensorlog.maxBodyBytes is refused with 413', async (t) => {
  // two lines are 916 bytes, four 1833
  const w = await build(t, { 'sensorlog.maxBodyBytes': 1024 });
  assert.equal((await w.request('/log/store', text(`${line1}\n${line2}`))).status, 200);
  const big = await w.request('/log/store', text(`${line1}\n${line2}\n${line1}\n${line2}`));
  assert.equal(big.status, 413);
});

test('/log/store with an empty body, or only blank lines, is refused naming the body', async (t) => {
  const w = await build(t);
  for (const body of ['', '\n \r\n\t\n', JSON.stringify('')]) {
    const r = await w.request('/log/store', {
      method: 'POST',
      headers: { 'content-type': body.startsWith('"') ? 'application/json' : 'text/plain' },
      body,
    });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.field, 'body', JSON.stringify(body));
    assert.match(r.body.error, /no event/);
  }
});

test('device, firmware and event numbers must be whole numbers in the safe range, named when not', async (t) => {
  const w = await build(t);
  const withId = (id: string) => line1.replace('ID=1;', `ID=${id};`);
  assert.notEqual(withId('x'), line1);
  for (const [field, line] of [
    ['Device.ID', withId('1e21')],
    ['Device.ID', withId('1.5')],
    ['Device.ID', withId('9007199254740992')],
    ['Device.Fw', line1.replace('Fw=16071801', 'Fw=1e300')],
    ['Device.Evt', line1.replace('Evt=2', 'Evt=2,5')],
  ]) {
    const r = await w.request('/log/store', text(line));
    assert.equal(r.status, 400, `${line.slice(0, 40)}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, new RegExp(`^${field.replace('.', '\\.')}: expected a whole number`), line.slice(0, 40));
  }
  const json = await w.request('/log/store', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ...(await w.request('/log/parse', text(line1))).body,
      Device: { ID: 1e21 },
    }),
  });
  assert.equal(json.status, 400);
  assert.match(json.body.error, /^Device\.ID: expected a whole number/);
  // nothing was stored: no row, no `sensorlog/1.5/…` series
  const [{ n }] = await w.app.ctx.store.query<{ n: number }>('SELECT count(*) AS n FROM sensor_events');
  assert.equal(Number(n), 0);
  assert.equal((await w.request('/api/v1/series/sensorlog/1.5/power_active_w/latest')).status, 404);
  // the largest safe integer is a device like any other
  assert.equal((await w.request('/log/store', text(withId('9007199254740991')))).status, 200);
});

test('/api/v1/sensorlog/events takes a cluster label as written, and names cluster otherwise', async (t) => {
  const w = await build(t);
  for (const cluster of ['1e30', '1.5', '', '0x10', ' 1', '-2', '2147483648', '99999999999999999999']) {
    const r = await w.request(`/api/v1/sensorlog/events?cluster=${encodeURIComponent(cluster)}`);
    assert.equal(r.status, 400, `cluster=${JSON.stringify(cluster)}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.field, 'cluster');
  }
  for (const cluster of ['-1', '0', '2147483647'])
    assert.deepEqual((await w.request(`/api/v1/sensorlog/events?cluster=${cluster}`)).body, { events: [] });
});

test("/log/parse reads a line without a section as the seed's parser did, and /log/store refuses it by line", async (t) => {
  const w = await build(t);
  for (const body of ['', 'Dead=Beef', 'A; B; C;']) {
    const r = await w.request('/log/parse', text(body));
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.deepEqual(r.body, {}, JSON.stringify(body));
  }
  const foo = await w.request('/log/parse', text('Foo: Bar=A;B;C;'));
  assert.deepEqual(foo.body, { Foo: { Bar: 'A' } });
  const one = await w.request('/log/store', text('Dead=Beef'));
  assert.equal(one.status, 400);
  assert.match(one.body.error, /^no section found/);
  const some = await w.request('/log/store', text(`${line1}\nA; B; C;\n${line2}`));
  assert.equal(some.status, 400);
  assert.equal(some.body.stored, 2);
  assert.deepEqual(
    some.body.errors.map((e: { line: number; error: string }) => [e.line, /^no section found/.test(e.error)]),
    [[2, true]],
  );
});

test('/log/parse with several lines asks for one line', async (t) => {
  const w = await build(t);
  const r = await w.request('/log/parse', text(`${line1}\n${line2}\n`));
  assert.equal(r.status, 400);
  assert.equal(r.body.field, 'body');
  assert.match(r.body.error, /one log line/);
  assert.doesNotMatch(r.body.error, /inside a/);
  // one line with its newline is still one line
  const single = await w.request('/log/parse', text(`${line1}\r\n`));
  assert.equal(single.status, 200);
  assert.equal(single.body.Power.Active, 1753);
});
