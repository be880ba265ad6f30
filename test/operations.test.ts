import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { build, tempDir } from './helpers.js';
import { startServe, type ServeProcess } from './serve.js';

const bin = path.join(import.meta.dirname, '..', 'bin', 'wattline.js');
const T0 = Date.UTC(2024, 0, 1);

test('GET /health answers 200 {status: ok}', async (t) => {
  const w = await build(t);
  const r = await w.request('/health', { headers: { authorization: '' } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { status: 'ok' });
});

test('GET /ready answers 200 with the store and the bus ok', async (t) => {
  const w = await build(t);
  const r = await w.request('/ready', { headers: { authorization: '' } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { status: 'ready', store: 'ok', bus: 'ok' });
});

test('GET /metrics counts ingested rows, requests, commits and queries in Prometheus text format', async (t) => {
  const w = await build(t);
  const good = await w.ingest([
    { series: 'm/a', value: 1, ts: T0 },
    { series: 'm/a', value: 2, ts: T0 + 1000 },
    { series: 'm/b', value: 3, ts: T0 },
    { series: 'm/b', value: 4, ts: T0 + 1000 },
  ]);
  assert.deepEqual(good.body, { accepted: 4 });
  const mixed = await w.ingest([{ series: 'm/a', value: 5, ts: T0 + 2000 }, 'not json']);
  assert.equal(mixed.status, 400);
  const query = `/api/v1/query?series=m/a,m/b&start=${T0}&end=${T0 + 2000}&window=1m&agg=sum`;
  assert.equal((await w.request(query)).status, 200);
  assert.equal((await w.request(query)).status, 200); // the same query again comes from the cache

  const r = await w.request('/metrics', { headers: { authorization: '' } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = String(r.body);
  const value = (sample: string) => {
    const line = text.split('\n').find((l) => l.startsWith(sample + ' '));
    assert.ok(line, `no sample ${sample} in /metrics`);
    return Number(line.slice(sample.length + 1));
  };
  assert.equal(value('ingest_rows_total{format="ndjson"}'), 5);
  assert.equal(value('ingest_rows_invalid_total{format="ndjson"}'), 1);
  assert.equal(value('ingest_requests_total{format="ndjson",status="200"}'), 1);
  assert.equal(value('ingest_requests_total{format="ndjson",status="400"}'), 1);
  assert.ok(value('persist_batch_commit_seconds_count') >= 1, 'at least one batch committed');
  assert.equal(value('persist_queue_rows'), 0, 'every acknowledged row is committed');
  assert.equal(value('query_duration_seconds_count{cache="miss"}'), 1);
  assert.equal(value('query_duration_seconds_count{cache="hit"}'), 1);
  assert.equal(value('query_cache_hits_total'), 1);
  assert.match(text, /^# TYPE ingest_rows_total counter$/m);
  assert.match(text, /^# TYPE persist_batch_commit_seconds histogram$/m);
  assert.match(text, /^# TYPE query_duration_seconds histogram$/m);
  // Prometheus text exposition: every line is a comment, blank, or `name{labels} value`
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    assert.match(
      line,
      /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/,
      line,
    );
  }
});

test('GET /openapi.json is an OpenAPI 3 document listing ingest, query, series and keys', async (t) => {
  const w = await build(t);
  const r = await w.request('/openapi.json', { headers: { authorization: '' } });
  assert.equal(r.status, 200);
  assert.match(r.body.openapi, /^3\./);
  assert.equal(r.body.info.title, 'Wattline');
  for (const [pathname, method] of [
    ['/ingest', 'post'],
    ['/api/v1/query', 'get'],
    ['/api/v1/series', 'get'],
    ['/api/v1/keys', 'post'],
  ]) {
    assert.ok(r.body.paths[pathname]?.[method], `${method.toUpperCase()} ${pathname} is documented`);
  }
  // a client generated from the document must send what the server requires
  for (const pathname of ['/api/v1/query', '/api/v1/energy']) {
    const params = r.body.paths[pathname].get.parameters as { name: string; required?: boolean }[];
    const required = params.filter((p) => p.required).map((p) => p.name);
    assert.deepEqual(required.sort(), ['end', 'series', 'start'], `${pathname}: required parameters`);
  }
});

test('GET /docs serves the API docs as HTML', async (t) => {
  const w = await build(t);
  const r = await fetch(w.url + '/docs', { redirect: 'follow' });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
  const html = await r.text();
  assert.match(html, /<html/i);
  assert.match(html, /swagger/i);
});

test('every response carries an x-request-id, and a request id sent by the client comes back', async (t) => {
  const w = await build(t);
  const open = { headers: { authorization: '' } };
  const responses = {
    health: await w.request('/health', open),
    ready: await w.request('/ready', open),
    metrics: await w.request('/metrics', open),
    openapi: await w.request('/openapi.json', open),
    docs: await w.request('/docs', open),
    notFound: await w.request('/no/such/route', open),
    unauthorized: await w.request('/ingest', {
      method: 'POST',
      headers: { authorization: '', 'content-type': 'application/x-ndjson' },
      body: '{"series":"x","value":1,"ts":0}\n',
    }),
    badQuery: await w.request(`/api/v1/query?series=x&start=0&end=${T0}&window=2m`),
    ingest: await w.ingest([{ series: 'x', value: 1, ts: T0 }]),
  };
  const ids = Object.entries(responses).map(([name, r]) => {
    const id = r.headers.get('x-request-id');
    assert.ok(id, `${name} (${r.status}) has an x-request-id`);
    return id;
  });
  assert.equal(new Set(ids).size, ids.length, 'each request gets its own id');

  for (const [pathname, status] of [
    ['/health', 200],
    ['/no/such/route', 404],
    [`/api/v1/query?series=x&start=0&end=${T0}&window=2m`, 400],
  ] as const) {
    const r = await w.request(pathname, { headers: { 'x-request-id': 'trace-abc-123' } });
    assert.equal(r.status, status, pathname);
    assert.equal(r.headers.get('x-request-id'), 'trace-abc-123', pathname);
  }
});

test('a malformed URL gets a 400 in the usual error shape with an x-request-id', async (t) => {
  const w = await build(t);
  const r = await w.request('/api/v1/series/%E0%A4%A/latest');
  assert.equal(r.status, 400);
  assert.ok(r.headers.get('x-request-id'), 'has an x-request-id');
  assert.equal(typeof r.body.error, 'string');
  assert.match(r.body.code, /^[a-z_]+$/, 'a stable snake_case code');
});

test('an unknown route gets 404 with a JSON body naming the path', async (t) => {
  const w = await build(t);
  const r = await w.request('/api/v2/nothing-here?x=1');
  assert.equal(r.status, 404);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(r.body.code, 'not_found');
  assert.match(r.body.error, /\/api\/v2\/nothing-here/);
  assert.doesNotMatch(r.body.error, /x=1/, 'the query string is not echoed');
});

test('a store failure answers 500 with only "internal error" and its request id', async (t) => {
  const w = await build(t);
  await w.ingest([{ series: 'x', value: 1, ts: 0 }]);
  await w.app.ctx.store.close(); // the real store, gone: every read now fails inside
  const r = await w.request(`/api/v1/query?series=x&start=0&end=${T0}`, { headers: { 'x-request-id': 'boom-1' } });
  assert.equal(r.status, 500);
  assert.deepEqual(r.body, { error: 'internal error', requestId: 'boom-1' });
  assert.equal(r.headers.get('x-request-id'), 'boom-1');
  const ready = await w.request('/ready');
  assert.equal(ready.status, 503);
  assert.equal(ready.body.store, 'unavailable');
});

test('a percent-encoded key is decoded once: %25 stays a literal % and gets a 404, not a 500', async (t) => {
  const w = await build(t);
  await w.ingest([{ series: 'a/b', value: 1, ts: 0 }]);
  assert.equal((await w.request('/api/v1/series/a%2Fb/latest')).body.value, 1);
  assert.equal((await w.request('/api/v1/series/%25E0/latest')).status, 404);
  assert.equal((await w.request('/api/v1/series/a%252Fb/latest')).status, 404);
});

// ---- the real `wattline serve` process ----

type Server = ServeProcess & { key: string };

async function startServer(dataDir: string): Promise<Server> {
  const server = await startServe(dataDir);
  assert.ok(server.key, 'the banner shows the generated key');
  return server as Server;
}

/** Splits a printed shell command into argv: only whitespace and '…' / "…" quoting, as sh would. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  const pattern = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\\.|[^\s'"])+|(\s+)/g;
  let word: string | undefined;
  for (const m of command.trim().matchAll(pattern)) {
    if (m[4] !== undefined) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + (m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[0].replace(/\\(.)/g, '$1'));
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('the first serve banner prints the key and curl commands that work; a restart prints neither, and the key still works', {
  timeout: 120_000,
}, async (t) => {
  const dataDir = tempDir();
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const first = await startServer(dataDir);
  t.after(() => first.child.kill('SIGKILL'));

  const commands = first.banner
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('curl '));
  const ingestCommand = commands.find((c) => /\/ingest$/.test(shellWords(c).at(-1)!));
  const queryCommand = commands.find((c) => shellWords(c).at(-1)!.includes('/api/v1/query?'));
  assert.ok(ingestCommand, `a curl … /ingest command in the banner:\n${first.banner}`);
  assert.ok(queryCommand, `a curl … /api/v1/query command in the banner:\n${first.banner}`);

  const sent = await run(shellWords(ingestCommand));
  assert.equal(sent.code, 0, sent.stderr);
  assert.deepEqual(JSON.parse(sent.stdout), { accepted: 192 });
  const queried = await run(shellWords(queryCommand));
  assert.equal(queried.code, 0, queried.stderr);
  const reply = JSON.parse(queried.stdout) as {
    results: { series: string; points: { time: string; value: number }[] }[];
  };
  assert.deepEqual(
    reply.results.map((r) => r.series),
    ['home/meter/power', 'home/solar/power'],
  );
  for (const r of reply.results) assert.ok(r.points.length > 0, `${r.series} has points`);
  assert.ok(reply.results.every((r) => r.points.every((p) => Number.isFinite(p.value))));

  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);

  const second = await startServe(dataDir);
  t.after(() => second.child.kill('SIGKILL'));
  assert.ok(!second.banner.includes(first.key), `the key is not printed again:\n${second.banner}`);
  assert.match(second.banner, /API key\s+kept in \S+api-key/, 'the banner says where the key is kept');
  assert.doesNotMatch(second.banner, /curl/, `no sample commands on a second start:\n${second.banner}`);
  const keys = await fetch(`${second.url}/api/v1/keys`, { headers: { authorization: `Bearer ${first.key}` } });
  assert.equal(keys.status, 200, 'the key printed at first start still works');
  // and the sample readings are still there
  const again = await fetch(shellWords(queryCommand).at(-1)!.replace(first.url, second.url));
  assert.deepEqual(await again.json(), reply);
});

test('serve with WATTLINE_HTTP_PORT=abc exits non-zero naming the variable and the accepted values', {
  timeout: 60_000,
}, async (t) => {
  const dataDir = tempDir();
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: {
      ...process.env,
      WATTLINE_DATA_DIR: dataDir,
      WATTLINE_HTTP_PORT: 'abc',
      WATTLINE_LOG_LEVEL: 'warn',
      WATTLINE_CARBON_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.exitCode === null && child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.notEqual(code, 0);
  assert.match(stderr, /WATTLINE_HTTP_PORT/);
  assert.match(stderr, /expected a whole number from 0 to 65535/);
  assert.match(stderr, /"abc"/);
  assert.doesNotMatch(stdout, /HTTP API/, 'nothing started');
});
