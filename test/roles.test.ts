import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { until } from './helpers.js';
import { startCluster } from './cluster.js';
import type { ServeProcess } from './serve.js';
import { needService } from './services.js';

const KEY = 'roles-test-key-0001';
const T0 = Date.UTC(2024, 0, 1);

type Proc = ServeProcess;

/** The cluster every test here runs: in-flight batches of a killed persistor come back quickly, answers are refreshed only by commit notices. */
function cluster(t: TestContext) {
  return startCluster(t, {
    name: 'roles',
    env: {
      // a killed persistor's unacknowledged batches come back after this
      WATTLINE_BUS_ACK_WAIT_MS: '2000',
      // answers are cached with no expiry: only commit notices from the persistors refresh them
      WATTLINE_QUERY_CACHE_TTL_MS: '0',
      WATTLINE_API_KEYS: KEY,
    },
  });
}

/**
 * Starts the processes at once. If one fails, waits for the rest before failing, so that every
 * process that did start is stopped when the test ends.
 */
async function startAll(start: (roles: string) => Promise<Proc>, roles: string[]): Promise<Proc[]> {
  const started = await Promise.allSettled(roles.map(start));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return started.map((r) => (r as PromiseFulfilledResult<Proc>).value);
}

function body(from: number, count: number): string {
  let text = '';
  for (let n = from; n < from + count; n++) text += `{"series":"roles/${n % 7}","value":${n},"ts":${T0 + n * 1000}}\n`;
  return text;
}

async function post(url: string, text: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson' },
      body: text,
    });
    return r.status === 200;
  } catch {
    return false;
  }
}

async function stored(apiUrl: string): Promise<{ count: number; sum: number }> {
  const series = Array.from({ length: 7 }, (_, i) => `roles/${i}`).join(',');
  const q = async (agg: string) => {
    const r = await fetch(
      `${apiUrl}/api/v1/query?series=${series}&start=${T0}&end=${T0 + 100 * 86_400_000}&window=1d&agg=${agg}`,
    );
    const reply = (await r.json()) as { results: { points: { value: number }[] }[] };
    return reply.results.flatMap((s) => s.points).reduce((a, p) => a + p.value, 0);
  };
  return { count: await q('count'), sum: await q('sum') };
}

test('two ingestors and two persistors on NATS and PostgreSQL store every reading exactly once, even when a persistor is killed', {
  timeout: 180_000,
}, async (t) => {
  if (!(await needService(t, 'postgres')) || !(await needService(t, 'nats'))) return;
  const { start } = await cluster(t);
  // all five start at once on an empty schema: each applies the migrations, and the migration lock
  // must let exactly one of them apply each while the others wait and then see it applied
  const [ingestA, ingestB, persistA, , api] = await startAll(start, ['ingest', 'ingest', 'persist', 'persist', 'api']);

  const rows = 1000;
  const acknowledged: number[] = []; // first reading number of each acknowledged body
  let next = 0;
  const send = async (url: string, bodies: number) => {
    for (let i = 0; i < bodies; i++) {
      const from = next;
      next += rows;
      // every body is sent twice, to both ingestors: a resend must not store anything twice
      const [a, b] = await Promise.all([
        post(url, body(from, rows)),
        post(url === ingestA.url ? ingestB.url : ingestA.url, body(from, rows)),
      ]);
      if (a || b) acknowledged.push(from);
    }
  };
  await Promise.all([send(ingestA.url, 10), send(ingestB.url, 10)]);
  const first = acknowledged.length * rows;
  const expectedSum = (list: number[]) => list.reduce((a, from) => a + rows * from + (rows * (rows - 1)) / 2, 0);
  await until(async () => (await stored(api.url)).count === first, 60_000, `${first} readings stored`);
  assert.deepEqual(await stored(api.url), { count: first, sum: expectedSum(acknowledged) });

  // now kill one persistor while readings stream in; the other must pick up its unacknowledged batches
  const streaming = Promise.all([send(ingestA.url, 15), send(ingestB.url, 15)]);
  await until(() => acknowledged.length >= 25, 60_000, 'more bodies acknowledged');
  persistA.child.kill('SIGKILL');
  await streaming;
  const total = acknowledged.length * rows;
  await until(async () => (await stored(api.url)).count === total, 90_000, `all ${total} acknowledged readings stored`);
  assert.deepEqual(await stored(api.url), { count: total, sum: expectedSum(acknowledged) });
  // the api process answered from its cache in between: only the persistors' notices kept it fresh
  const metrics = await (await fetch(`${api.url}/metrics`)).text();
  assert.ok(
    Number(/^query_cache_hits_total (\d+)/m.exec(metrics)?.[1] ?? 0) > 0,
    'the api process served cached answers',
  );
  // the catalog agrees: no reading counted twice
  const catalog = (await (await fetch(`${api.url}/api/v1/series`)).json()) as { series: { count: number }[] };
  assert.equal(
    catalog.series.reduce((a, s) => a + s.count, 0),
    total,
  );
});

test('an ingest-only process answers 503 with Retry-After while the stream is full, and every reading it accepted is stored', {
  timeout: 120_000,
}, async (t) => {
  if (!(await needService(t, 'postgres')) || !(await needService(t, 'nats'))) return;
  const { start } = await cluster(t);
  // 100 lines are one batch, one message: the stream holds four
  const ingest = await start('ingest', { WATTLINE_BUS_MAX_MESSAGES: '4', WATTLINE_INGEST_BATCH_SIZE: '100' });
  const api = await start('api');
  const send = (from: number, count: number) =>
    fetch(`${ingest.url}/ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson' },
      body: body(from, count),
    });

  // no persistor runs: nothing leaves the stream, and the ingest process must notice on its own
  for (const from of [0, 100]) assert.equal((await send(from, 100)).status, 200);
  // ten batches: two fit, then the stream refuses one midway through the body
  const refused = await send(200, 1000);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal(((await refused.json()) as { code: string }).code, 'overloaded');
  // known to be full now: refused before the body is read
  assert.equal((await send(1200, 100)).status, 503);
  const metrics = await (await fetch(`${ingest.url}/metrics`)).text();
  assert.match(metrics, /^bus_publish_refused_total\{topic="readings"\} [1-9]/m);
  assert.match(metrics, /^bus_queue_fill_ratio\{topic="readings"\} 1$/m);
  assert.match(metrics, /^ingest_requests_total\{format="ndjson",status="503"\} 2$/m);

  // a persistor drains the stream; the client sends the refused body again until it is taken
  await start('persist');
  await until(async () => (await send(200, 1000)).status === 200, 60_000, 'the refused body to be taken');
  // every acknowledged reading is stored, and the part of the refused body stored twice only once
  const rows = 1200;
  await until(async () => (await stored(api.url)).count === rows, 60_000, `${rows} readings stored`);
  assert.deepEqual(await stored(api.url), { count: rows, sum: (rows * (rows - 1)) / 2 });
});
