import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { build, until, type TestApp } from './helpers.js';

// a client as any edgecom or Wattline user would write it: @grpc/grpc-js over TCP, the repository's .proto files
const protoRoot = path.join(import.meta.dirname, '..', 'proto');
const reflectionProto = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@grpc/reflection')),
  '..',
  'proto',
  'grpc',
  'reflection',
  'v1',
  'reflection.proto',
);
const options: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};
const method = (file: string, service: string, name: string) =>
  (protoLoader.loadSync(file, options)[service] as protoLoader.ServiceDefinition)[name];
const QUERY_TIME_SERIES = method('edgecom/timeseries.proto', 'edgecom.TimeSeriesService', 'QueryTimeSeries');
const READINGS_QUERY = method('wattline/v1/readings.proto', 'wattline.v1.ReadingsService', 'Query');
const READINGS_SUBSCRIBE = method('wattline/v1/readings.proto', 'wattline.v1.ReadingsService', 'Subscribe');
const HEALTH_CHECK = method(healthProtoPath, 'grpc.health.v1.Health', 'Check');
const REFLECTION = method(reflectionProto, 'grpc.reflection.v1.ServerReflection', 'ServerReflectionInfo');

const M = 60_000;
const H = 3_600_000;
const D = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

interface Timestamp {
  seconds: number;
  nanos: number;
}
interface EdgecomReply {
  data: { time: Timestamp; value: number }[];
}

const ts = (ms: number): Timestamp => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });
const iso = (t: Timestamp) => new Date(t.seconds * 1000 + t.nanos / 1_000_000).toISOString();

/** The app with gRPC on a free port; no rate limit unless the test asks for one. */
async function start(
  t: TestContext,
  overrides: Record<string, unknown> = {},
): Promise<{ w: TestApp; client: grpc.Client }> {
  const w = await build(t, { grpcPort: 0, 'rateLimit.grpcPerSecond': 0, ...overrides });
  const client = new grpc.Client(w.app.grpcUrl!, grpc.credentials.createInsecure());
  t.after(() => client.close());
  return { w, client };
}

/** One unary call; resolves with the reply or rejects with the gRPC error (code, details). */
function unary<Res>(
  client: grpc.Client,
  def: protoLoader.MethodDefinition<object, object>,
  request: object,
  metadata: Record<string, string> = {},
): Promise<Res> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, md, (err, reply) =>
      err ? reject(err) : resolve(reply as Res),
    ),
  );
}

async function rejects(call: Promise<unknown>, code: grpc.status, details: string) {
  await assert.rejects(call, (err: grpc.ServiceError) => {
    assert.equal(grpc.status[err.code], grpc.status[code], err.details);
    assert.equal(err.details, details);
    return true;
  });
}

const edgecom = (client: grpc.Client, request: object, metadata?: Record<string, string>) =>
  unary<EdgecomReply>(client, QUERY_TIME_SERIES, request, metadata);
const points = (reply: EdgecomReply) => reply.data.map((p) => [iso(p.time), p.value]);

// day 1, hour 00: 10, 20, 60; hour 01: 5; hour 02 empty; hour 03: -5. Day 2, hour 12: 100, 50.
// One reading just outside each end of the range [T0, T0 + D + 12h30] that the queries below ask for.
const readings = [
  { series: 'edgecom', value: 1000, ts: T0 - M },
  { series: 'edgecom', value: 60, ts: T0 + 45 * M },
  { series: 'edgecom', value: 10, ts: T0 },
  { series: 'edgecom', value: 20, ts: T0 + 15 * M },
  { series: 'edgecom', value: 5, ts: T0 + H + 30 * M },
  { series: 'edgecom', value: -5, ts: T0 + 3 * H },
  { series: 'edgecom', value: 100, ts: T0 + D + 12 * H },
  { series: 'edgecom', value: 50, ts: T0 + D + 12 * H + 30 * M },
  { series: 'edgecom', value: 1000, ts: T0 + D + 12 * H + 31 * M },
  { series: 'site/other', value: 7, ts: T0 + 2 * H },
];

test('QueryTimeSeries answers hand-computed MIN, MAX, AVG and SUM for 1h and 1d windows', async (t) => {
  const { w, client } = await start(t);
  assert.equal((await w.ingest(readings)).status, 200);
  const range = { start: ts(T0), end: ts(T0 + D + 12 * H + 30 * M) };
  const check = async (window: string, aggregation: string, expected: [string, number][]) => {
    assert.deepEqual(
      points(await edgecom(client, { ...range, window, aggregation })),
      expected,
      `${window} ${aggregation}`,
    );
  };
  const hours = [
    '2024-01-01T00:00:00.000Z',
    '2024-01-01T01:00:00.000Z',
    '2024-01-01T03:00:00.000Z',
    '2024-01-02T12:00:00.000Z',
  ];
  const zip = (times: string[], values: number[]) => times.map((time, i) => [time, values[i]] as [string, number]);
  await check('1h', 'MIN', zip(hours, [10, 5, -5, 50]));
  await check('1h', 'MAX', zip(hours, [60, 5, -5, 100]));
  await check('1h', 'AVG', zip(hours, [30, 5, -5, 75]));
  await check('1h', 'SUM', zip(hours, [90, 5, -5, 150]));
  const days = ['2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z'];
  await check('1d', 'MIN', zip(days, [-5, 50]));
  await check('1d', 'MAX', zip(days, [60, 100]));
  await check('1d', 'AVG', zip(days, [18, 75]));
  await check('1d', 'SUM', zip(days, [90, 150]));
  await check('5m', 'SUM', [
    ['2024-01-01T00:00:00.000Z', 10],
    ['2024-01-01T00:15:00.000Z', 20],
    ['2024-01-01T00:45:00.000Z', 60],
    ['2024-01-01T01:30:00.000Z', 5],
    ['2024-01-01T03:00:00.000Z', -5],
    ['2024-01-02T12:00:00.000Z', 100],
    ['2024-01-02T12:30:00.000Z', 50],
  ]);
  // a bucket's time is its epoch-aligned start even when the range starts inside it
  assert.deepEqual(
    points(await edgecom(client, { start: ts(T0 + 15 * M), end: ts(T0 + 2 * H), window: '1h', aggregation: 'SUM' })),
    [
      ['2024-01-01T00:00:00.000Z', 80],
      ['2024-01-01T01:00:00.000Z', 5],
    ],
  );
  // start equal to end is allowed: the one reading at that instant
  assert.deepEqual(
    points(await edgecom(client, { start: ts(T0 + 15 * M), end: ts(T0 + 15 * M), window: '1m', aggregation: 'MAX' })),
    [['2024-01-01T00:15:00.000Z', 20]],
  );
});

test('x-wattline-series metadata picks the series; the setting picks the default', async (t) => {
  const { w, client } = await start(t, { 'edgecom.series': 'site/other' });
  await w.ingest(readings);
  const request = { start: ts(T0), end: ts(T0 + D), window: '1d', aggregation: 'SUM' };
  assert.deepEqual(points(await edgecom(client, request)), [['2024-01-01T00:00:00.000Z', 7]]);
  assert.deepEqual(points(await edgecom(client, request, { 'x-wattline-series': 'edgecom' })), [
    ['2024-01-01T00:00:00.000Z', 90],
  ]);
  assert.deepEqual(points(await edgecom(client, request, { 'x-wattline-series': 'no-such-series' })), []);
  await rejects(
    edgecom(client, request, { 'x-wattline-series': 'bad key!' }),
    grpc.status.INVALID_ARGUMENT,
    'x-wattline-series must be one series key (letters, digits and _ . : / -, at most 200)',
  );
});

test('every invalid QueryTimeSeries request gets INVALID_ARGUMENT with edgecom’s message, in edgecom’s order', async (t) => {
  const { client } = await start(t);
  const ok = { start: ts(T0), end: ts(T0 + D), window: '1h', aggregation: 'AVG' };
  const check = (request: object, details: string) =>
    rejects(edgecom(client, { ...ok, ...request }), grpc.status.INVALID_ARGUMENT, details);
  await check({ start: null }, 'missing timestamp');
  await check({ end: null }, 'missing timestamp');
  await check({ start: ts(0) }, 'missing timestamp');
  await check({ end: ts(0), window: 'bad', aggregation: '' }, 'missing timestamp');
  await check({ start: ts(T0 + 1000), end: ts(T0) }, 'start time must be before end time');
  await check({ start: ts(T0 + 1000), end: ts(T0), window: 'bad' }, 'start time must be before end time');
  await check({ end: ts(T0 + 730 * D + 1) }, 'time range exceeds maximum allowed');
  await check({ end: ts(T0 + 800 * D), aggregation: 'bad' }, 'time range exceeds maximum allowed');
  await check({ window: '' }, 'invalid window: ');
  await check({ window: '15m' }, 'invalid window: 15m');
  await check({ window: '2h', aggregation: '' }, 'invalid window: 2h');
  await check({ aggregation: '' }, 'invalid aggregation');
  await check({ aggregation: 'MEDIAN' }, 'invalid aggregation: MEDIAN');
  await check({ aggregation: 'avg' }, 'invalid aggregation: avg');
  // a request with no fields at all
  await rejects(edgecom(client, {}), grpc.status.INVALID_ARGUMENT, 'missing timestamp');
  // the longest range allowed and every window pass
  for (const window of ['1m', '5m', '1h', '1d'])
    assert.deepEqual(await edgecom(client, { ...ok, window }), { data: [] });
  assert.deepEqual(await edgecom(client, { ...ok, end: ts(T0 + 730 * D), window: '1d' }), { data: [] });
});

test('a store failure is INTERNAL "query failed: …" without the driver’s message', async (t) => {
  const { w, client } = await start(t);
  await w.ingest(readings);
  await w.app.ctx.store.close();
  await rejects(
    edgecom(client, { start: ts(T0), end: ts(T0 + D), window: '1h', aggregation: 'MAX' }),
    grpc.status.INTERNAL,
    'query failed: store error',
  );
});

test('the third immediate call over a 1/s, burst 2 limit gets RESOURCE_EXHAUSTED; another key has its own budget', async (t) => {
  const { w, client } = await start(t, { 'rateLimit.grpcPerSecond': 1, 'rateLimit.grpcBurst': 2 });
  // the limit applies before validation, so these empty requests count
  await rejects(edgecom(client, {}), grpc.status.INVALID_ARGUMENT, 'missing timestamp');
  await rejects(edgecom(client, {}), grpc.status.INVALID_ARGUMENT, 'missing timestamp');
  await rejects(edgecom(client, {}), grpc.status.RESOURCE_EXHAUSTED, 'rate limit exceeded');
  await rejects(
    edgecom(client, {}, { authorization: `Bearer ${w.key}` }),
    grpc.status.INVALID_ARGUMENT,
    'missing timestamp',
  );
  // health checks are not limited
  assert.deepEqual(await unary(client, HEALTH_CHECK, { service: '' }), { status: 'SERVING' });
});

test('the HTTP API answers 429 with a JSON error over its limit; health stays open', async (t) => {
  const { w } = await start(t, { 'rateLimit.httpPerSecond': 1, 'rateLimit.httpBurst': 2 });
  assert.equal((await w.request('/api/v1/series')).status, 200);
  assert.equal((await w.request('/api/v1/series')).status, 200);
  const r = await w.request('/api/v1/series');
  assert.equal(r.status, 429);
  assert.deepEqual(r.body, { error: 'rate limit exceeded', code: 'rate_limited' });
  assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
  assert.equal((await w.request('/health')).status, 200);
});

test('the HTTP API is not limited by default', async (t) => {
  const { w } = await start(t);
  for (let i = 0; i < 150; i++) assert.equal((await w.request('/api/v1/series')).status, 200);
});

test('wattline.v1 Query answers several series with every HTTP query option', async (t) => {
  const { w, client } = await start(t);
  await w.ingest(readings);
  type Reply = { results: { series: string; points: { time: Timestamp; value?: number }[] }[] };
  const query = (request: object) => unary<Reply>(client, READINGS_QUERY, request);
  const reply = await query({
    series: ['edgecom', 'site/other', 'nope'],
    start: ts(T0),
    end: ts(T0 + 4 * H - 1),
    window: '1h',
    agg: 'max',
    fill: 'null',
  });
  const shown = reply.results.map((r) => [r.series, r.points.map((p) => [iso(p.time).slice(11, 16), p.value ?? null])]);
  assert.deepEqual(shown, [
    [
      'edgecom',
      [
        ['00:00', 60],
        ['01:00', 5],
        ['02:00', null],
        ['03:00', -5],
      ],
    ],
    [
      'site/other',
      [
        ['00:00', null],
        ['01:00', null],
        ['02:00', 7],
        ['03:00', null],
      ],
    ],
    [
      'nope',
      [
        ['00:00', null],
        ['01:00', null],
        ['02:00', null],
        ['03:00', null],
      ],
    ],
  ]);
  // raw points without a window; count; a local day in a time zone (New York midnight is 05:00 UTC)
  const raw = await query({ series: ['edgecom'], start: ts(T0), end: ts(T0 + H) });
  assert.deepEqual(
    raw.results[0].points.map((p) => [iso(p.time), p.value]),
    [
      ['2024-01-01T00:00:00.000Z', 10],
      ['2024-01-01T00:15:00.000Z', 20],
      ['2024-01-01T00:45:00.000Z', 60],
    ],
  );
  const local = await query({
    series: ['edgecom'],
    start: ts(T0 - D),
    end: ts(T0 + 2 * D),
    window: '1d',
    agg: 'count',
    tz: 'America/New_York',
  });
  assert.deepEqual(
    local.results[0].points.map((p) => [iso(p.time), p.value]),
    [
      ['2023-12-31T05:00:00.000Z', 6],
      ['2024-01-02T05:00:00.000Z', 3],
    ],
  );
  // the HTTP query's checks and messages
  await rejects(
    query({ series: ['edgecom'], start: ts(T0), end: ts(T0 + H), window: '2m' }),
    grpc.status.INVALID_ARGUMENT,
    'window must be one of 1m, 5m, 15m, 30m, 1h, 1d (got "2m")',
  );
  await rejects(
    query({ series: ['edgecom'], end: ts(T0) }),
    grpc.status.INVALID_ARGUMENT,
    'start is required: ISO 8601 or an epoch number',
  );
  await rejects(
    query({ start: ts(T0), end: ts(T0) }),
    grpc.status.INVALID_ARGUMENT,
    'series is required: one or more series keys, comma-separated',
  );
  await rejects(
    query({ series: ['a,b'], start: ts(T0), end: ts(T0) }),
    grpc.status.INVALID_ARGUMENT,
    'series keys cannot contain ","; list each key on its own',
  );
});

test('wattline.v1 Query integrates a power gauge into kWh and says the unit', async (t) => {
  const { w, client } = await start(t);
  await w.app.readings.describe([{ key: 'home/meter/power', unit: 'W', kind: 'gauge' }]);
  // 1 kW, sent in W, every 10 s for 90 minutes: 1.0 kWh then 0.5 kWh
  const rows = [];
  for (let t = T0; t <= T0 + 90 * M; t += 10_000) rows.push({ series: 'home/meter/power', ts: t, value: 1000 });
  assert.equal((await w.ingest(rows)).status, 200);
  type Reply = { results: { series: string; unit: string; points: { time: Timestamp; value?: number }[] }[] };
  const request = { series: ['home/meter/power'], start: ts(T0), end: ts(T0 + 2 * H - 1), window: '1h' };
  const reply = await unary<Reply>(client, READINGS_QUERY, { ...request, agg: 'integral', unit: 'kWh' });
  assert.deepEqual(
    reply.results.map((r) => [r.series, r.unit, r.points.map((p) => [iso(p.time).slice(11, 16), p.value])]),
    [
      [
        'home/meter/power',
        'kWh',
        [
          ['00:00', 1],
          ['01:00', 0.5],
        ],
      ],
    ],
  );
  await rejects(
    unary(client, READINGS_QUERY, { ...request, agg: 'increase' }),
    grpc.status.INVALID_ARGUMENT,
    'series "home/meter/power" is a gauge, not a counter: increase is for cumulative meter readings (kind counter)',
  );
});

/** Subscribes to `series`; resolves with the first reading streamed, or rejects with the gRPC error. */
function firstStreamed(
  client: grpc.Client,
  series: string[],
  metadata: Record<string, string> = {},
): Promise<{ series: string; value: number }> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  const stream = client.makeServerStreamRequest(
    READINGS_SUBSCRIBE.path,
    READINGS_SUBSCRIBE.requestSerialize,
    READINGS_SUBSCRIBE.responseDeserialize,
    { series },
    md,
  );
  return new Promise((resolve, reject) => {
    stream.on('data', (r: { series: string; value: number }) => {
      resolve({ series: r.series, value: r.value });
      stream.on('error', () => undefined); // the cancel ends it with CANCELLED
      stream.cancel();
    });
    stream.once('error', reject);
  });
}

test('with reads requiring a key, Query, QueryTimeSeries and Subscribe without one or with a wrong one get UNAUTHENTICATED; a read key works', async (t) => {
  const { w, client } = await start(t, { requireReadKey: true });
  const readKey = (
    await w.request('/api/v1/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'read' }),
    })
  ).body.key;
  await w.ingest([{ series: 'edgecom', value: 7, ts: T0 }]);
  const request = { start: ts(T0), end: ts(T0 + D), window: '1d', aggregation: 'SUM' };
  const query = { series: ['edgecom'], start: ts(T0), end: ts(T0 + D), window: '1d', agg: 'sum' };
  const queryOf = (metadata?: Record<string, string>) => unary(client, READINGS_QUERY, query, metadata);
  const subscribe = (metadata?: Record<string, string>) => firstStreamed(client, ['guarded'], metadata);

  for (const [what, metadata, details] of [
    ['no key', {}, 'no credentials provided'],
    ['a wrong key', { authorization: 'Bearer wrong-key-123' }, 'invalid api key'],
  ] as const) {
    await t.test(what, async () => {
      await rejects(edgecom(client, request, metadata), grpc.status.UNAUTHENTICATED, details);
      await rejects(queryOf(metadata), grpc.status.UNAUTHENTICATED, details);
      await rejects(subscribe(metadata), grpc.status.UNAUTHENTICATED, details);
    });
  }

  const auth = { authorization: `Bearer ${readKey}` };
  assert.deepEqual(points(await edgecom(client, request, auth)), [['2024-01-01T00:00:00.000Z', 7]]);
  const [result] = ((await queryOf(auth)) as { results: { series: string; points: { value: number }[] }[] }).results;
  assert.deepEqual([result.series, result.points.map((p) => p.value)], ['edgecom', [7]]);
  let streamed: object | undefined;
  void subscribe(auth).then((r) => (streamed = r));
  // the key is checked before the subscription is made: store readings until one is streamed
  await until(async () => (await w.ingest([{ series: 'guarded', value: 1, ts: T0 }])) && streamed !== undefined);
  assert.deepEqual(streamed, { series: 'guarded', value: 1 });
  // health stays public
  assert.deepEqual(await unary(client, HEALTH_CHECK, { service: '' }), { status: 'SERVING' });
});

test('reflection lists the services and health answers SERVING', async (t) => {
  const { client } = await start(t);
  const names = await new Promise<string[]>((resolve, reject) => {
    const stream = client.makeBidiStreamRequest(
      REFLECTION.path,
      REFLECTION.requestSerialize,
      REFLECTION.responseDeserialize,
      new grpc.Metadata(),
    );
    stream.on('data', (reply: { list_services_response: { service: { name: string }[] } }) => {
      resolve(reply.list_services_response.service.map((s) => s.name));
      stream.end();
    });
    stream.on('error', reject);
    stream.write({ list_services: '*' });
  });
  for (const name of ['edgecom.TimeSeriesService', 'wattline.v1.ReadingsService', 'grpc.health.v1.Health'])
    assert.ok(names.includes(name), `${name} in ${names}`);
  for (const service of ['', 'edgecom.TimeSeriesService', 'wattline.v1.ReadingsService']) {
    assert.deepEqual(await unary(client, HEALTH_CHECK, { service }), { status: 'SERVING' }, service);
  }
});

test('calls are counted in /metrics by method and carry a request id', async (t) => {
  const { w, client } = await start(t);
  const request = { start: ts(T0), end: ts(T0 + D), window: '1h', aggregation: 'SUM' };
  await edgecom(client, request);
  await rejects(edgecom(client, {}), grpc.status.INVALID_ARGUMENT, 'missing timestamp');
  // the request id a client sends comes back in the reply's metadata
  const echoed = await new Promise<grpc.MetadataValue[]>((resolve, reject) => {
    const md = new grpc.Metadata();
    md.set('x-request-id', 'trace-1234');
    const call = client.makeUnaryRequest(
      QUERY_TIME_SERIES.path,
      QUERY_TIME_SERIES.requestSerialize,
      QUERY_TIME_SERIES.responseDeserialize,
      request,
      md,
      (err) => err && reject(err),
    );
    call.on('metadata', (m: grpc.Metadata) => resolve(m.get('x-request-id')));
  });
  assert.deepEqual(echoed, ['trace-1234']);
  const metrics = (await w.request('/metrics')).body as string;
  assert.match(metrics, /^grpc_requests_total\{method="\/edgecom\.TimeSeriesService\/QueryTimeSeries"\} 3$/m);
  assert.match(
    metrics,
    /^grpc_request_duration_seconds_count\{method="\/edgecom\.TimeSeriesService\/QueryTimeSeries"\} 3$/m,
  );
});

test('wattline.v1 Subscribe streams the chosen series as readings are stored, until the client cancels', async (t) => {
  const { w, client } = await start(t);
  const got: { series: string; time: Timestamp; value: number }[] = [];
  const stream = client.makeServerStreamRequest(
    READINGS_SUBSCRIBE.path,
    READINGS_SUBSCRIBE.requestSerialize,
    READINGS_SUBSCRIBE.responseDeserialize,
    { series: ['live/a', 'live/c'] },
    new grpc.Metadata(),
  );
  stream.on('data', (r: { series: string; time: Timestamp; value: number }) => got.push(r));
  const ended = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
  stream.on('error', () => undefined); // the cancel below ends it with CANCELLED
  // the subscription is in place once the server has sent its metadata
  await new Promise((resolve) => stream.once('metadata', resolve));
  await w.ingest([
    { series: 'live/a', value: 1.5, ts: T0 },
    { series: 'live/b', value: 2, ts: T0 },
    { series: 'live/c', value: 3, ts: T0 + M },
  ]);
  await until(() => got.length >= 2, 10_000, 'two streamed readings');
  assert.deepEqual(
    got.map((r) => [r.series, iso(r.time), r.value]),
    [
      ['live/a', '2024-01-01T00:00:00.000Z', 1.5],
      ['live/c', '2024-01-01T00:01:00.000Z', 3],
    ],
  );
  stream.cancel();
  assert.equal((await ended).code, grpc.status.CANCELLED);
});

test('wattline.v1 Subscribe without series is INVALID_ARGUMENT naming the field', async (t) => {
  const { client } = await start(t);
  const stream = client.makeServerStreamRequest(
    READINGS_SUBSCRIBE.path,
    READINGS_SUBSCRIBE.requestSerialize,
    READINGS_SUBSCRIBE.responseDeserialize,
    { series: [] },
    new grpc.Metadata(),
  );
  const err = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err.details, /series is required/);
});

test('a Subscribe client that stops reading is cut with RESOURCE_EXHAUSTED and the reason once it falls behind; a reading subscriber keeps receiving', {
  timeout: 120_000,
}, async (t) => {
  const { w, client } = await start(t, { 'grpc.subscribeMaxQueuedBytes': 256 * 1024 });
  // a client that stops reading its socket: a plain HTTP/2 stream, paused, so flow control holds
  // the server's frames (grpc-js reads on into its own buffer even when its stream is paused)
  const session = http2.connect(w.app.grpcUrl!.replace(/^(grpc:\/\/)?/, 'http://'));
  t.after(() => session.destroy());
  const idle = session.request({
    ':method': 'POST',
    ':path': READINGS_SUBSCRIBE.path,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  const body = READINGS_SUBSCRIBE.requestSerialize({ series: ['busy/power'] });
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  idle.end(frame);
  idle.pause();
  let trailers: http2.IncomingHttpHeaders | undefined;
  idle.on('trailers', (h) => (trailers = h));
  const reader = client.makeServerStreamRequest(
    READINGS_SUBSCRIBE.path,
    READINGS_SUBSCRIBE.requestSerialize,
    READINGS_SUBSCRIBE.responseDeserialize,
    { series: ['busy/power'] },
  );
  t.after(() => reader.cancel());
  let readerError: grpc.ServiceError | undefined;
  reader.on('error', (err: grpc.ServiceError) => (readerError = err)); // the cancel at the end: CANCELLED
  let received = 0;
  reader.on('data', () => received++);
  await until(
    async () => {
      await w.ingest([{ series: 'busy/power', value: -1, ts: T0 }]);
      return received > 0;
    },
    10_000,
    'the subscriptions to start',
  );

  // ~40 bytes a reading: 20 batches of 1,000 are far more than 256 KB and the socket buffers;
  // each is sent once the reader has the one before, so the reader is never behind by more than one
  const before = received;
  for (let batch = 0; batch < 20; batch++) {
    await w.ingest(
      Array.from({ length: 1000 }, (_, i) => ({ series: 'busy/power', value: i, ts: T0 + (batch * 1000 + i) * 1000 })),
    );
    await until(() => received - before >= (batch + 1) * 1000, 30_000, `the reader to get batch ${batch + 1}`);
  }

  // the idle client reads again: what was queued, then the reason it was cut
  let drainedBytes = 0;
  idle.on('data', (chunk: Buffer) => (drainedBytes += chunk.length));
  idle.resume();
  await until(() => trailers !== undefined, 30_000, 'the idle subscriber to end');
  assert.equal(trailers?.['grpc-status'], String(grpc.status.RESOURCE_EXHAUSTED), JSON.stringify(trailers));
  assert.match(
    decodeURIComponent(String(trailers?.['grpc-message'])),
    /subscriber fell behind: .* over grpc\.subscribeMaxQueuedBytes \(262144\)/,
  );
  assert.ok(drainedBytes < 20_000 * 40, `it was cut before getting everything (${drainedBytes} bytes)`);

  // and the one that reads is still subscribed
  const after = received;
  await w.ingest([{ series: 'busy/power', value: 42, ts: T0 + D }]);
  await until(() => received === after + 1, 10_000, 'the reader to get a reading sent after the cut');
  assert.equal(readerError, undefined);
});
