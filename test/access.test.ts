import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { build, dropSchema, type TestApp, uniqueSchema, until } from './helpers.js';
import { needService, services } from './services.js';

type Access = 'public' | 'read' | 'write' | 'admin';

// Who may call each operation of the API. A route added without a line here fails the walk below,
// named: add it with the scope it needs (and declare that scope in its `config.access`).
const expectedAccess: Record<string, Access> = {
  'GET /': 'public',
  'GET /health': 'public',
  'GET /ready': 'public',
  'GET /metrics': 'public',
  'GET /openapi.json': 'public',
  'GET /dashboard/app.js': 'public',
  'GET /dashboard/app.css': 'public',
  'POST /api/v1/keys': 'admin',
  'GET /api/v1/keys': 'admin',
  'GET /api/v1/backup': 'admin',
  'DELETE /api/v1/keys/{id}': 'admin',
  'GET /api/v1/dlq': 'admin',
  'POST /api/v1/dlq/replay': 'admin',
  'GET /api/v1/query': 'read',
  'GET /api/v1/energy': 'read',
  'GET /api/v1/energy/cost': 'read',
  'GET /api/v1/energy/carbon': 'read',
  'GET /api/v1/series': 'read',
  'GET /api/v1/series/{*}': 'read',
  'PUT /api/v1/series/{*}': 'write',
  'POST /ingest': 'write',
  'POST /write': 'write',
  'GET /api/v1/retention': 'read',
  'PUT /api/v1/retention': 'admin',
  'POST /api/v1/retention/apply': 'admin',
  'POST /api/v2/write': 'write',
  'GET /ping': 'public',
  'HEAD /ping': 'public',
  'GET /query': 'write',
  'POST /query': 'write',
  'POST /api/v1/sources/{name}/bootstrap': 'admin',
  'GET /api/v1/sources': 'read',
  'GET /api/v1/devices': 'read',
  'POST /api/v1/devices': 'write',
  'GET /api/v1/devices/{*}': 'read',
  'DELETE /api/v1/devices/{*}': 'write',
  'POST /api/v1/daily/process': 'admin',
  'GET /daily-summary/{date}': 'read',
  'GET /api/v1/daily': 'read',
  'POST /log/parse': 'public',
  'POST /log/store': 'write',
  'GET /clusters/summary': 'read',
  'GET /api/v1/sensorlog/events': 'read',
  'GET /api/statistics/latest': 'read',
  'GET /api/location/latest': 'read',
  'GET /api/statistics/sensor/{sensor}/date/{date}': 'read',
  'GET /api/status': 'read',
  'POST /api/v1/dumps': 'admin',
  'GET /api/v1/dumps': 'read',
  'GET /api/v1/analytics/summary': 'read',
  'GET /api/v1/analytics/energy': 'read',
  'POST /api/v1/rooms/metrics': 'write',
  'GET /api/v1/overview': 'read',
  'POST /api/v1/sensors': 'write',
  'GET /api/v1/sensors/get': 'read',
  'GET /api/v1/sensors/{id}': 'read',
  'PUT /api/v1/sensors/{id}': 'write',
  'DELETE /api/v1/sensors/{id}': 'write',
  'GET /api/v1/sensors/{id}/data': 'read',
  'POST /api/v1/sensors/{id}/data': 'write',
  'GET /api/v1/rooms': 'read',
  'POST /api/v1/rooms': 'write',
  'GET /api/v1/rooms/names': 'read',
  'GET /api/v1/rooms/{name}': 'read',
  'PUT /api/v1/rooms/{name}': 'write',
  'DELETE /api/v1/rooms/{name}': 'write',
  'POST /api/v1/data/query': 'read',
  'GET /api/v1/ws': 'read',
  'GET /input/post': 'write',
  'POST /input/post': 'write',
  'GET /input/post.json': 'write',
  'POST /input/post.json': 'write',
  'GET /input/post/{node}': 'write',
  'POST /input/post/{node}': 'write',
  'GET /input/bulk': 'write',
  'POST /input/bulk': 'write',
  'GET /input/bulk.json': 'write',
  'POST /input/bulk.json': 'write',
  'POST /api/v1/demand-response/invitation/send': 'write',
  'POST /api/v1/demand-response/invitation/get': 'read',
  'GET /api/v1/demand-response/invitation/unanswered': 'read',
  'GET /api/v1/demand-response/invitation/answered': 'read',
  'POST /api/v1/demand-response/invitation/answer': 'write',
  'GET /api/v1/demand-response/invitation/auto': 'read',
  'POST /api/v1/demand-response/invitation/auto': 'write',
  'POST /api/v1/demand-response/iot/demandresponse/enable': 'write',
  'GET /api/v1/demand-response/iot/instructions': 'read',
  'POST /api/v1/demand-response/iot/instructions': 'write',
  'GET /api/v1/demand-response/energy/flexibility': 'read',
  'POST /api/v1/demand-response/event/check': 'read',
  'GET /api/v1/flex/events': 'read',
  'POST /api/v1/flex/events/{id}/cancel': 'write',
  'GET /api/v1/flex/events/{id}/report': 'read',
  'GET /api/v1/ingestion/status': 'read',
  'GET /api/v1/ingestion/files': 'read',
  'POST /api/v1/ingestion/trigger': 'admin',
  'GET /api/v1/demand-response/forecast/flexibility': 'read',
  'POST /api/v1/demand-response/dr/benefit': 'read',
};

// a value for each path parameter: the key is checked before the parameters, so any value will do
const fillers: Record<string, string> = { date: '2024-01-01', id: 'k_000000000000', name: 'edgecom', sensor: 's1' };
const fill = (pathname: string) =>
  pathname.replace(/\{([^}]+)\}/g, (_, name: string) => (name === '*' ? 'some/series' : (fillers[name] ?? 'x')));

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function createKey(w: TestApp, scope: 'read' | 'write' | 'admin', name?: string): Promise<string> {
  const r = await w.request('/api/v1/keys', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scope, name }),
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.key;
}

test('with reads requiring a key, every documented route is open or closed as its scope says: no key and a wrong key get 401, too small a scope 403', async (t) => {
  const w = await build(t, { requireReadKey: true });
  const readKey = await createKey(w, 'read');
  const writeKey = await createKey(w, 'write');
  const doc = await w.request('/openapi.json', { headers: { authorization: '' } });
  assert.equal(doc.status, 200);

  const seen = new Set<string>();
  for (const [pathname, operations] of Object.entries(doc.body.paths as Record<string, object>)) {
    for (const [method, operation] of Object.entries(operations as Record<string, { 'x-access'?: string }>)) {
      const route = `${method.toUpperCase()} ${pathname}`;
      seen.add(route);
      const expected = expectedAccess[route];
      assert.ok(expected, `${route} has no line in expectedAccess: add it with the scope it needs`);
      assert.equal(operation['x-access'], expected, `${route} is documented with x-access ${expected}`);

      const call = (headers: Record<string, string>) =>
        w.request(fill(pathname), { method: method.toUpperCase(), headers });
      if (expected === 'public') {
        const open = await call({ authorization: '' });
        assert.ok(![401, 403].includes(open.status), `${route} answers without a key (got ${open.status})`);
        continue;
      }
      // InfluxDB's v2 write words its errors {code, message}
      const reason = (body: { error?: string; message?: string }) => body.error ?? body.message;
      const none = await call({ authorization: '' });
      assert.equal(none.status, 401, `${route} without a key`);
      assert.equal(reason(none.body), 'no credentials provided', route);
      const wrong = await call(bearer('wl_not-a-key-of-this-server'));
      assert.equal(wrong.status, 401, `${route} with a wrong key`);
      assert.equal(reason(wrong.body), 'invalid api key', route);
      if (expected === 'write' || expected === 'admin') {
        const small = expected === 'write' ? { key: readKey, scope: 'read' } : { key: writeKey, scope: 'write' };
        const tooSmall = await call(bearer(small.key));
        assert.equal(tooSmall.status, 403, `${route} with a ${small.scope} key`);
        assert.equal(reason(tooSmall.body), `this key has scope ${small.scope}; ${expected} is needed`, route);
      }
      const enough = await call(bearer(expected === 'read' ? readKey : expected === 'write' ? writeKey : w.key));
      assert.ok(![401, 403].includes(enough.status), `${route} lets a ${expected} key in (got ${enough.status})`);
    }
  }
  const undocumented = Object.keys(expectedAccess).filter((route) => !seen.has(route));
  assert.deepEqual(undocumented, [], 'every route in expectedAccess is in the OpenAPI document');

  // the API docs are public too, though not in the document they serve
  const docs = await fetch(`${w.url}/docs/static/index.html`);
  assert.equal(docs.status, 200);
});

test('the reads that were open before answer 401 without a key when reads need a key, and 200 with a read key', async (t) => {
  const w = await build(t, { requireReadKey: true });
  const readKey = await createKey(w, 'read');
  for (const pathname of [
    '/clusters/summary',
    '/api/v1/sensorlog/events',
    '/daily-summary/2024-01-01',
    '/api/v1/daily',
  ]) {
    const none = await w.request(pathname, { headers: { authorization: '' } });
    assert.equal(none.status, 401, `${pathname} without a key`);
    const read = await w.request(pathname, { headers: bearer(readKey) });
    assert.ok(![401, 403].includes(read.status), `${pathname} with a read key (got ${read.status})`);
  }
});

test('without requireReadKey, reads need no key and the document says so; writes still do', async (t) => {
  const w = await build(t);
  const doc = await w.request('/openapi.json', { headers: { authorization: '' } });
  assert.deepEqual(doc.body.paths['/api/v1/query'].get.security, [], 'query documented as open');
  assert.equal(doc.body.paths['/ingest'].post.security, undefined, 'ingest keeps the global security');
  assert.equal((await w.request('/api/v1/series', { headers: { authorization: '' } })).status, 200);
  assert.equal((await w.ingest([{ series: 'a', value: 1, ts: 0 }])).status, 200);
  const refused = await w.request('/ingest', { method: 'POST', headers: { authorization: '' } });
  assert.equal(refused.status, 401);
});

test('GET /api/v1/keys lists every key with id, name, scope, created and last used, but never the key or its hash', async (t) => {
  const w = await build(t);
  const key = await createKey(w, 'read', 'dashboard');
  assert.equal((await w.request('/api/v1/series', { headers: bearer(key) })).status, 200);
  const r = await w.request('/api/v1/keys');
  assert.equal(r.status, 200);
  const [generated, created] = r.body.keys;
  assert.equal(r.body.keys.length, 2);
  assert.deepEqual(
    { ...generated, created: typeof generated.created, lastUsed: typeof generated.lastUsed },
    {
      id: 'generated',
      name: 'generated',
      scope: 'admin',
      created: 'string',
      lastUsed: 'string', // this very request
    },
  );
  assert.equal(created.name, 'dashboard');
  assert.equal(created.scope, 'read');
  assert.match(created.id, /^k_[0-9a-f]{12}$/);
  assert.ok(Date.parse(created.created) <= Date.now());
  // reads are open here, so the read key was never checked: never used
  assert.equal(created.lastUsed, null);
  const text = JSON.stringify(r.body);
  assert.ok(!text.includes(key) && !text.includes(w.key), 'no key in the list');
  assert.ok(!/[0-9a-f]{64}/.test(text), 'no hash in the list');

  // the last use is kept, and written at most once a minute, not on every request
  assert.equal((await w.request('/api/v1/dumps', { method: 'POST', headers: bearer(key) })).status, 403);
  const used = (await w.request('/api/v1/keys')).body.keys[1].lastUsed;
  assert.ok(Date.parse(used) <= Date.now(), `last used ${used}`);
  assert.equal((await w.request('/api/v1/dumps', { method: 'POST', headers: bearer(key) })).status, 403);
  assert.equal((await w.request('/api/v1/keys')).body.keys[1].lastUsed, used);
});

test('DELETE /api/v1/keys/{id} revokes a key at once; keys from settings cannot be revoked, and say why', async (t) => {
  const w = await build(t, { apiKeys: 'admin-key-0001:admin,device-key-0001' });
  const admin = bearer('admin-key-0001');
  const created = await w.request('/api/v1/keys', {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify({ scope: 'write', name: 'meter' }),
  });
  const key = created.body.key;
  assert.equal((await w.ingest([{ series: 'a', value: 1, ts: 0 }])).status, 401, 'no generated key');
  const write = () =>
    w.request('/ingest', {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/x-ndjson' },
      body: '{"series":"a","value":1,"ts":0}\n',
    });
  assert.equal((await write()).status, 200);

  const list = await w.request('/api/v1/keys', { headers: admin });
  assert.deepEqual(
    list.body.keys.map((k: { id: string; name: string; scope: string }) => [k.id, k.name, k.scope]),
    [
      ['settings-1', 'settings', 'admin'],
      ['settings-2', 'settings', 'write'],
      [list.body.keys[2].id, 'meter', 'write'],
    ],
  );
  const id = list.body.keys[2].id;
  const revoked = await w.request(`/api/v1/keys/${id}`, { method: 'DELETE', headers: admin });
  assert.equal(revoked.status, 204);
  const refused = await write();
  assert.equal(refused.status, 401);
  assert.equal(refused.body.error, 'invalid api key');
  assert.deepEqual(
    (await w.request('/api/v1/keys', { headers: admin })).body.keys.map((k: { id: string }) => k.id),
    ['settings-1', 'settings-2'],
  );

  const again = await w.request(`/api/v1/keys/${id}`, { method: 'DELETE', headers: admin });
  assert.equal(again.status, 404);
  const fromSettings = await w.request('/api/v1/keys/settings-2', { method: 'DELETE', headers: admin });
  assert.equal(fromSettings.status, 409);
  assert.equal(fromSettings.body.code, 'key_not_revocable');
  assert.match(fromSettings.body.error, /settings-2 comes from the settings \(WATTLINE_API_KEYS\)/);
  const byWriter = await w.request('/api/v1/keys/settings-1', { method: 'DELETE', headers: bearer('device-key-0001') });
  assert.equal(byWriter.status, 403);
});

test('the generated key cannot be revoked through the API (409 naming its file)', async (t) => {
  const w = await build(t);
  const r = await w.request('/api/v1/keys/generated', { method: 'DELETE' });
  assert.equal(r.status, 409);
  assert.match(r.body.error, /generated admin key kept in .*api-key/);
  assert.equal((await w.request('/api/v1/keys')).status, 200, 'and it still works');
});

test('a key revoked by another process sharing the store stops working there within apiKeyRecheckS', async (t) => {
  if (!(await needService(t, 'postgres'))) return;
  const schema = uniqueSchema();
  t.after(() => dropSchema(schema));
  const shared = {
    databaseUrl: services.postgres.url,
    'store.schema': schema,
    apiKeys: 'admin-key-0001:admin',
    apiKeyRecheckS: 1,
    requireReadKey: true,
  };
  const a = await build(t, shared);
  const b = await build(t, shared);
  const admin = bearer('admin-key-0001');
  const created = await a.request('/api/v1/keys', {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify({ scope: 'read' }),
  });
  const read = () => b.request('/api/v1/series', { headers: bearer(created.body.key) });
  assert.equal((await read()).status, 200, 'the other process knows the key');

  const [listed] = (await b.request('/api/v1/keys', { headers: admin })).body.keys.filter(
    (k: { name: string }) => k.name !== 'settings',
  );
  assert.equal((await a.request(`/api/v1/keys/${listed.id}`, { method: 'DELETE', headers: admin })).status, 204);
  await until(async () => (await read()).status === 401, 10_000, 'the revoked key to be refused by the other process');
});

test('POST /api/v1/keys refuses a name that is not a string and fields it does not know, naming the field', async (t) => {
  const w = await build(t);
  const post = (body: object) =>
    w.request('/api/v1/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const numeric = await post({ scope: 'read', name: 12 });
  assert.equal(numeric.status, 400, JSON.stringify(numeric.body));
  assert.equal(numeric.body.field, 'name');
  const typo = await post({ scope: 'read', nmae: 'dashboard' });
  assert.equal(typo.status, 400, JSON.stringify(typo.body));
  assert.deepEqual(typo.body, { error: 'body has an unknown field "nmae"', code: 'unknown_field', field: 'nmae' });
  assert.deepEqual(
    (await w.request('/api/v1/keys')).body.keys.map((k: { id: string }) => k.id),
    ['generated'],
    'no key was made',
  );
});

for (const mode of ['embedded', 'server'] as const) {
  test(`${mode}: keys are stored as a keyed hash, not a plain SHA-256 of the key, and keys stored as SHA-256 keep working and are rehashed`, async (t) => {
    const overrides: Record<string, unknown> = { apiKeys: 'admin-key-0001:admin', requireReadKey: true };
    if (mode === 'server') {
      if (!(await needService(t, 'postgres'))) return;
      const schema = uniqueSchema();
      t.after(() => dropSchema(schema));
      Object.assign(overrides, { databaseUrl: services.postgres.url, 'store.schema': schema });
    }
    const w = await build(t, overrides);
    const admin = bearer('admin-key-0001');
    const created = await w.request('/api/v1/keys', {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'read', name: 'new' }),
    });
    const key: string = created.body.key;
    const sha256 = (k: string) => createHash('sha256').update(k).digest('hex');
    const stored = async () =>
      (await w.app.ctx.store.query<{ name: string; key_hash: string }>(`SELECT name, key_hash FROM api_keys`)).map(
        (r) => [r.name, r.key_hash],
      );
    const [[, newHash]] = await stored();
    assert.notEqual(newHash, sha256(key), 'a leaked table cannot be checked against a guessed key with SHA-256');
    assert.ok(!newHash.includes(key));

    // a key stored by an earlier version, as its bare SHA-256
    const old = 'wl_an_old_key_made_before_keyed_hashes';
    await w.app.ctx.store.transaction((tx) =>
      tx.run(`INSERT INTO api_keys (id, key_hash, scope, name) VALUES ('k_0123456789ab', $1, 'read', 'old')`, [
        sha256(old),
      ]),
    );
    assert.equal((await w.request('/api/v1/series', { headers: bearer(old) })).status, 200, 'the old key works');
    const oldHash = (await stored()).find(([name]) => name === 'old')?.[1];
    assert.notEqual(oldHash, sha256(old), 'rehashed on first use');
    assert.equal((await w.request('/api/v1/series', { headers: bearer(old) })).status, 200, 'and still works');
    assert.equal((await w.request('/api/v1/series', { headers: bearer(key) })).status, 200);
    assert.equal((await w.request('/api/v1/series', { headers: bearer(`${key}x`) })).status, 401);
  });
}
