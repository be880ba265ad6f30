import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { build, type TestApp, until } from './helpers.js';

const D = 86_400_000;
const WEEK = 7 * D;
// a week-aligned start (the connector fetches 7-day chunks aligned to the epoch)
const T0 = Math.ceil(Date.UTC(2024, 0, 1) / WEEK) * WEEK;

const H = 3_600_000;
/** Requests for ranges starting before this are for history, not the polls of the last days. */
const HISTORY_BEFORE = Date.now() - 60 * D;

interface Upstream {
  url: string;
  /** Every request's start and end parameters, in order. */
  requests: { start: string; end: string }[];
  /** The requests for history (what the tests ask for), without the polls of recent days. */
  history(): { start: string; end: string }[];
  /** Answers the next requests for history with these (status, body, headers) before answering normally. */
  failNext(...answers: { status: number; body?: string; headers?: Record<string, string> }[]): void;
  /** Answers every request for a range starting at `startIso` with this status, until cleared. */
  breakRange(startIso: string | undefined): void;
  /** Leaves every request for a range starting at `startIso` unanswered (a fetch cut off mid-way). */
  holdRange(startIso: string | undefined): void;
  /** Answers every request with 503 while down. */
  down(isDown: boolean): void;
}

/** `2024-01-01T00:00:00`, as the upstream writes times. */
const upstreamTime = (ms: number) => new Date(ms).toISOString().slice(0, 19);
const parseUpstreamTime = (s: string) => Date.parse(s + 'Z');

/** A local EdgeCom Energy API: one reading per hour, value = hours since T0. */
async function edgecomUpstream(t: TestContext): Promise<Upstream> {
  const requests: Upstream['requests'] = [];
  const failures: { status: number; body?: string; headers?: Record<string, string> }[] = [];
  let broken: string | undefined;
  let held: string | undefined;
  let isDown = false;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const start = url.searchParams.get('start')!;
    const end = url.searchParams.get('end')!;
    requests.push({ start, end });
    if (start === held) return; // never answered
    const failure = parseUpstreamTime(start) < HISTORY_BEFORE ? failures.shift() : undefined;
    if (failure || start === broken || isDown) {
      res
        .writeHead(failure?.status ?? (isDown ? 503 : 500), failure?.headers ?? {})
        .end(failure?.body ?? 'upstream trouble');
      return;
    }
    const result = [];
    // the upstream's times have no zone: UTC
    for (let ms = Math.ceil(parseUpstreamTime(start) / H) * H; ms < parseUpstreamTime(end); ms += H) {
      result.push({ time: ms / 1000, value: (ms - T0) / H });
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/series`,
    requests,
    history: () => requests.filter((q) => parseUpstreamTime(q.start) < HISTORY_BEFORE),
    failNext: (...answers) => failures.push(...answers),
    breakRange: (startIso) => (broken = startIso),
    holdRange: (startIso) => (held = startIso),
    down: (value) => (isDown = value),
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
    upstream.history().map((q) => q.start),
    [upstreamTime(T0), upstreamTime(T0 + WEEK)],
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
  assert.equal(upstream.history().length, 3, 'two failures, then the answer');
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
  const third = upstreamTime(T0 + 2 * WEEK);
  upstream.breakRange(third);
  const failed = await bootstrap(w, T0, T0 + 4 * WEEK);
  assert.equal(failed.status, 502);
  assert.equal(await hourlyCount(w, T0, T0 + 4 * WEEK), 2 * 7 * 24, 'the two chunks before the failure are stored');

  // the process restarts on the same data; the checkpoints survive it
  await w.app.close();
  const restarted = await app(t, upstream, w.dataDir);
  upstream.breakRange(undefined);
  const before = upstream.history().length;
  const resumed = await bootstrap(restarted, T0, T0 + 4 * WEEK);
  assert.deepEqual(resumed.body, { chunks: 2, skipped: 2, readings: 2 * 7 * 24 });
  assert.deepEqual(
    upstream
      .history()
      .slice(before)
      .map((q) => q.start),
    [third, upstreamTime(T0 + 3 * WEEK)],
    'the chunk that failed first, nothing finished again',
  );
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

/** The chunks with a checkpoint: start (ISO) → readings. */
async function checkpoints(w: TestApp): Promise<Map<string, number>> {
  const rows = await w.app.ctx.store.query<{ from_ms: number | bigint; readings: number }>(
    `SELECT from_ms, readings FROM source_checkpoints WHERE source = 'edgecom' ORDER BY from_ms`,
  );
  return new Map(rows.map((r) => [upstreamTime(Number(r.from_ms)), Number(r.readings)]));
}

/** How many times the range starting at `startIso` was asked for. */
const asked = (upstream: Upstream, startIso: string) => upstream.requests.filter((q) => q.start === startIso).length;

test('on first start the history is fetched by itself, and a restart fetches no finished chunk again', async (t) => {
  const upstream = await edgecomUpstream(t);
  const settings = { 'edgecom.url': upstream.url, 'edgecom.bootstrapDays': 14, 'sources.minIntervalMs': 0 };
  const first = await build(t, settings);
  const now = Date.now();
  await until(async () => (await hourlyCount(first, now - 14 * D, now)) >= 14 * 24 - 1, 20_000, 'two weeks of history');
  // the week chunks before now are finished; the one under way is fetched last, up to the poll's range
  const openWeek = upstreamTime(Math.floor((now - 15 * 60_000) / WEEK) * WEEK);
  await until(() => asked(upstream, openWeek) === 1, 10_000, 'the open week fetched');
  const finished = await checkpoints(first);
  assert.ok(finished.size >= 2, `${finished.size} finished chunks`);
  for (const [start, readings] of finished) assert.equal(readings, 7 * 24, `a whole week from ${start}`);
  await first.app.close();

  const again = await build(t, settings, first.dataDir);
  // proof the second start's background work ran: it fetched the open week again
  await until(() => asked(upstream, openWeek) === 2, 10_000, 'the open week fetched again');
  for (const start of finished.keys()) assert.equal(asked(upstream, start), 1, `finished chunk ${start} fetched once`);
  assert.deepEqual(await checkpoints(again), finished);
});

/**
 * A server stored hourly readings up to `awayMs` ago (and had a finished history chunk) and was
 * then down (the upstream too, while it last ran); it restarts with the upstream up. Returns the requests of the restart that reach past
 * the last stored reading, once the hours missed are all stored.
 */
async function restartAfterOutage(t: TestContext, awayMs: number, bootstrapDays: number) {
  const upstream = await edgecomUpstream(t);
  const settings = {
    'edgecom.url': upstream.url,
    'edgecom.bootstrapDays': bootstrapDays,
    'sources.retries': 0,
    'sources.minIntervalMs': 0,
  };
  const now = Date.now();
  const lastHour = Math.floor((now - awayMs) / H) * H;
  upstream.down(true);
  const before = await build(t, settings);
  const stored = [];
  for (let ms = lastHour - D; ms <= lastHour; ms += H) stored.push({ series: 'edgecom', ts: ms, value: (ms - T0) / H });
  assert.equal((await before.ingest(stored)).status, 200);
  // it had fetched history before, so it has a finished chunk: no first start
  upstream.down(false);
  assert.equal((await bootstrap(before, T0, T0 + WEEK)).status, 200);
  await before.app.close();

  const seen = upstream.requests.length;
  const restarted = await build(t, settings, before.dataDir);
  const missed: number[] = [];
  for (let ms = lastHour + H; ms < now; ms += H) missed.push(ms);
  await until(
    async () => (await hourlyCount(restarted, lastHour + 1, now)) === missed.length,
    20_000,
    `the ${missed.length} hours missed`,
  );
  const r = await restarted.request(
    `/api/v1/query?series=edgecom&start=${lastHour + 1}&end=${now - 1}&window=1h&agg=max`,
  );
  assert.deepEqual(
    r.body.results[0].points.map((p: { time: string; value: number }) => [p.time, p.value]),
    missed.map((ms) => [new Date(ms).toISOString(), (ms - T0) / H]),
    'every hour missed, as upstream has it',
  );
  const gap = upstream.requests.slice(seen).filter((q) => parseUpstreamTime(q.end) > lastHour);
  return { now, lastHour, gap, first: upstream.requests[seen] };
}

test('after a 3-hour outage a restart fills the hours missed, newest first', async (t) => {
  const { now, lastHour, gap, first } = await restartAfterOutage(t, 3 * H, 1);
  assert.ok(parseUpstreamTime(first.end) >= Math.floor(now / 1000) * 1000, `first asked up to ${first.end}`);
  assert.ok(
    parseUpstreamTime(gap.at(-1)!.start) <= lastHour,
    `asked from the last stored reading: ${gap.at(-1)!.start}`,
  );
  const starts = gap.map((q) => parseUpstreamTime(q.start));
  assert.deepEqual(
    starts,
    [...starts].sort((a, b) => b - a),
    'newest chunk first',
  );
});

test('after three weeks away a restart fetches the newest week first, then each week before it', async (t) => {
  const { now, lastHour, gap, first } = await restartAfterOutage(t, 20 * D, 35);
  assert.equal(first, gap[0]);
  assert.ok(parseUpstreamTime(first.end) >= Math.floor(now / 1000) * 1000, `first asked up to ${first.end}`);
  assert.ok(gap.length >= 3, `${gap.length} chunks: ${JSON.stringify(gap)}`);
  const starts = gap.map((q) => parseUpstreamTime(q.start));
  assert.deepEqual(
    starts,
    [...starts].sort((a, b) => b - a),
    'newest week first',
  );
  assert.ok(starts.at(-1)! <= lastHour, 'back to the last stored reading');
});

test('a bootstrap cut off mid-way resumes by a plain restart, every chunk stored once', async (t) => {
  const upstream = await edgecomUpstream(t);
  const settings = { 'edgecom.url': upstream.url, 'edgecom.bootstrapDays': 28, 'sources.minIntervalMs': 0 };
  const now = Date.now();
  const chunks: string[] = [];
  for (let ms = Math.floor((now - 28 * D) / WEEK) * WEEK; ms + WEEK <= now - 15 * 60_000; ms += WEEK)
    chunks.push(upstreamTime(ms));
  const third = chunks[2];
  upstream.holdRange(third);
  const first = await build(t, settings);
  await until(() => asked(upstream, third) === 1, 10_000, 'the third chunk asked for');
  assert.deepEqual([...(await checkpoints(first)).keys()], chunks.slice(0, 2), 'two chunks finished');
  await first.app.close(); // stops with the third chunk's answer still outstanding

  upstream.holdRange(undefined);
  const restarted = await build(t, settings, first.dataDir);
  await until(async () => (await checkpoints(restarted)).size === chunks.length, 20_000, 'every chunk finished');
  const finished = await checkpoints(restarted);
  assert.deepEqual([...finished.keys()], chunks);
  for (const [start, readings] of finished) assert.equal(readings, 7 * 24, `a whole week from ${start}`);
  assert.deepEqual(
    chunks.map((start) => asked(upstream, start)),
    chunks.map((start) => (start === third ? 2 : 1)),
    'each chunk fetched once, the cut-off one again',
  );
  const from = Date.parse(chunks[0] + 'Z');
  assert.equal(await hourlyCount(restarted, from, from + chunks.length * WEEK - 1), chunks.length * 7 * 24);
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
