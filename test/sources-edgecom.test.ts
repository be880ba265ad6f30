import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { build, until } from './helpers.js';

const D = 86_400_000;
const WEEK = 7 * D;
// a week-aligned start (the connector fetches 7-day chunks aligned to the epoch)
const T0 = Math.ceil(Date.UTC(2024, 0, 1) / WEEK) * WEEK;

interface Upstream {
  url: string;
  /** Every request's start and end parameters, in order. */
  requests: { start: string; end: string }[];
  /** Answers the next requests with these (status, body, headers) before answering normally. */
  failNext(...answers: { status: number; body?: string; headers?: Record<string, string> }[]): void;
  /** Answers every request for a range starting at `startIso` with this status, until cleared. */
  breakRange(startIso: string | undefined): void;
}

/** A local EdgeCom Energy API: one reading per hour, value = hours since T0. */
async function edgecomUpstream(t: TestContext): Promise<Upstream> {
  const requests: Upstream['requests'] = [];
  const failures: { status: number; body?: string; headers?: Record<string, string> }[] = [];
  let broken: string | undefined;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const start = url.searchParams.get('start')!;
    const end = url.searchParams.get('end')!;
    requests.push({ start, end });
    const failure = failures.shift();
    if (failure || start === broken) {
      res.writeHead(failure?.status ?? 500, failure?.headers ?? {}).end(failure?.body ?? 'upstream trouble');
      return;
    }
    const result = [];
    // the upstream's times have no zone: UTC
    for (
      let ms = Math.ceil(Date.parse(start + 'Z') / 3_600_000) * 3_600_000;
      ms < Date.parse(end + 'Z');
      ms += 3_600_000
    ) {
      result.push({ time: ms / 1000, value: (ms - T0) / 3_600_000 });
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/series`,
    requests,
    failNext: (...answers) => failures.push(...answers),
    breakRange: (startIso) => (broken = startIso),
  };
}

async function app(t: TestContext, upstream: Upstream, dataDir?: string) {
  return build(
    t,
    {
      'edgecom.url': upstream.url,
      'edgecom.bootstrapDays': 0, // no history fetch at start: the tests ask for it
      'sources.retries': 2,
      'sources.retryBaseMs': 5,
      'sources.minIntervalMs': 0,
    },
    dataDir,
  );
}

const bootstrap = (w: Awaited<ReturnType<typeof app>>, from: number, to: number) =>
  w.request('/api/v1/sources/edgecom/bootstrap', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: new Date(from).toISOString(), to: new Date(to).toISOString() }),
  });

async function hourlyCount(w: Awaited<ReturnType<typeof app>>, from: number, to: number): Promise<number> {
  const r = await w.request(`/api/v1/query?series=edgecom&start=${from}&end=${to}&window=1d&agg=count`);
  return r.body.results[0].points.reduce((a: number, p: { value: number }) => a + p.value, 0);
}

test('a bootstrap fetches the range in week chunks into the edgecom series', async (t) => {
  const upstream = await edgecomUpstream(t);
  const w = await app(t, upstream);
  const r = await bootstrap(w, T0, T0 + 2 * WEEK);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { chunks: 2, skipped: 0, readings: 2 * 7 * 24 });
  assert.deepEqual(
    upstream.requests.map((q) => q.start),
    [new Date(T0).toISOString().slice(0, 19), new Date(T0 + WEEK).toISOString().slice(0, 19)],
  );
  const day = await w.request(`/api/v1/query?series=edgecom&start=${T0 + D}&end=${T0 + 2 * D - 1}&window=1d&agg=sum`);
  // hours 24..47 since T0: sum = 24 × 35.5
  assert.deepEqual(day.body.results[0].points, [{ time: new Date(T0 + D).toISOString(), value: 24 * 35.5 }]);
});

test('a 500 and a 429 with Retry-After are retried; a reply of the wrong shape fails naming the field', async (t) => {
  const upstream = await edgecomUpstream(t);
  const w = await app(t, upstream);
  upstream.failNext({ status: 500 }, { status: 429, headers: { 'retry-after': '1' } });
  const ok = await bootstrap(w, T0, T0 + WEEK);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(upstream.requests.length, 3, 'two failures, then the answer');
  assert.equal(await hourlyCount(w, T0, T0 + WEEK), 7 * 24);

  upstream.failNext({ status: 200, body: JSON.stringify({ result: [{ time: 1, value: 'high' }] }) });
  const bad = await bootstrap(w, T0 + WEEK, T0 + 2 * WEEK);
  assert.equal(bad.status, 502);
  assert.match(bad.body.error, /result\.0\.value/);
  assert.equal(await hourlyCount(w, T0 + WEEK, T0 + 2 * WEEK), 0, 'nothing stored from the bad reply');
});

test('a bootstrap that failed part way resumes after a restart where it stopped, never refetching finished chunks', async (t) => {
  const upstream = await edgecomUpstream(t);
  const w = await app(t, upstream);
  const third = new Date(T0 + 2 * WEEK).toISOString().slice(0, 19);
  upstream.breakRange(third);
  const failed = await bootstrap(w, T0, T0 + 4 * WEEK);
  assert.equal(failed.status, 502);
  assert.equal(await hourlyCount(w, T0, T0 + 4 * WEEK), 2 * 7 * 24, 'the two chunks before the failure are stored');

  // the process restarts on the same data; the checkpoints survive it
  await w.app.close();
  const restarted = await app(t, upstream, w.dataDir);
  upstream.breakRange(undefined);
  upstream.requests.length = 0;
  const resumed = await bootstrap(restarted, T0, T0 + 4 * WEEK);
  assert.deepEqual(resumed.body, { chunks: 2, skipped: 2, readings: 2 * 7 * 24 });
  assert.equal(upstream.requests[0].start, third, 'the first request is the chunk that failed');
  assert.equal(await hourlyCount(restarted, T0, T0 + 4 * WEEK), 4 * 7 * 24);
});

test('fetching overlapping ranges again writes nothing twice', async (t) => {
  const upstream = await edgecomUpstream(t);
  const w = await app(t, upstream);
  // ranges that end mid-chunk are never checkpointed: both calls fetch the partial chunk
  await bootstrap(w, T0, T0 + WEEK + 3 * D);
  await bootstrap(w, T0, T0 + WEEK + 5 * D);
  assert.equal(await hourlyCount(w, T0, T0 + 2 * WEEK), (7 + 5) * 24);
});

test('an unknown source is 404 and a source without its settings is off, saying why', async (t) => {
  const w = await build(t);
  const off = await w.request('/api/v1/sources/edgecom/bootstrap', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"from":"2024-01-01"}',
  });
  assert.equal(off.status, 400);
  assert.match(off.body.error, /WATTLINE_EDGECOM_URL is not set/);
  const unknown = await w.request('/api/v1/sources/nope/bootstrap', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"from":"2024-01-01"}',
  });
  assert.equal(unknown.status, 404);
});

test('on first start the history is fetched by itself, and a restart does not fetch it again', async (t) => {
  const upstream = await edgecomUpstream(t);
  const settings = { 'edgecom.url': upstream.url, 'edgecom.bootstrapDays': 14, 'sources.minIntervalMs': 0 };
  const first = await build(t, settings);
  const now = Date.now();
  await until(async () => (await hourlyCount(first, now - 14 * D, now)) >= 14 * 24 - 1, 20_000, 'two weeks of history');
  const fetched = upstream.requests.length;
  assert.ok(fetched >= 2 && fetched <= 4, `${fetched} chunk requests`);
  await first.app.close();
  const again = await build(t, settings, first.dataDir);
  await again.request('/health');
  assert.equal(upstream.requests.length, fetched, 'no history fetched on the second start');
});

test('an upstream that does not answer in time is given up on after the retries, with a reason', async (t) => {
  const silent = http.createServer(() => undefined); // accepts, never answers
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    silent.closeAllConnections();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const w = await build(t, {
    'edgecom.url': `http://127.0.0.1:${(silent.address() as AddressInfo).port}/api/series`,
    'edgecom.bootstrapDays': 0,
    'sources.timeoutMs': 200,
    'sources.retries': 1,
    'sources.retryBaseMs': 5,
    'sources.minIntervalMs': 0,
  });
  const r = await w.request('/api/v1/sources/edgecom/bootstrap', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: new Date(T0).toISOString(), to: new Date(T0 + D).toISOString() }),
  });
  assert.equal(r.status, 502);
  assert.match(r.body.error, /no answer within 200 ms/);
});
