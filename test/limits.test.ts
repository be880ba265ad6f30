// Issue 20, point 4: every limit is a setting with a sane default, answers with the right status
// (413, 408, 400, 429, 503 with Retry-After) and is counted in a metric. One compact test per limit:
// it sets the limit low, trips it, and checks the status, that the reply names the problem, and that
// a metric on GET /metrics moved. Behaviour already tested elsewhere (named at each test) is not
// repeated here beyond what the metric check needs.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import mqtt from 'mqtt';
import { build, rawConnection, type TestApp, until } from './helpers.js';
import { needService, services } from './services.js';

const T0 = Date.UTC(2024, 0, 1);
const D = 86_400_000;
const MiB = 1024 * 1024;

// --- reading GET /metrics (prom-client's text format)

async function scrape(w: TestApp): Promise<string> {
  return (await fetch(`${w.url}/metrics`)).text();
}

/** The sum of the samples of `name` whose labels include every one of `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Remembers the metrics now; the function it returns says how far a metric moved since. */
async function metricsNow(w: TestApp) {
  const before = await scrape(w);
  return async (name: string, labels: Record<string, string> = {}) =>
    sample(await scrape(w), name, labels) - sample(before, name, labels);
}

const requests = (route: string, status: string) => ['http_requests_total', { route, status }] as const;

// --- body size

test('a JSON body over the 10 MiB body limit gets 413 naming it before it is read, counted by route and status', async (t) => {
  const w = await build(t);
  const moved = await metricsNow(w);
  const c = rawConnection(w.url);
  // announced larger than the limit: only its first byte is ever sent
  c.socket.write(
    `POST /api/v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${w.key}\r\nContent-Type: application/json\r\nContent-Length: ${11 * MiB}\r\n\r\n{`,
  );
  await c.closedByServer();
  assert.equal(c.status(), 413);
  assert.match(c.body().code, /body_too_large/);
  assert.equal(await moved(...requests('/api/v1/keys', '413')), 1);

  await t.test('the limit is a setting, http.maxBodyBytes', async () => {
    const small = await build(t, { 'http.maxBodyBytes': 1024 });
    const r = await small.request('/api/v1/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'read', name: 'n'.repeat(2048) }),
    });
    assert.equal(r.status, 413);
    assert.equal(r.body.code, 'body_too_large');
  });

  await t.test('the code is Wattline’s own, as on /ingest', () => {
    assert.equal(c.body().code, 'body_too_large');
  });
});

test('a sensor-log body over sensorlog.maxBodyBytes gets 413 naming it, counted by route and status', async (t) => {
  // status alone: test/sensorlog.test.ts
  const w = await build(t, { 'sensorlog.maxBodyBytes': 1024 });
  const moved = await metricsNow(w);
  const r = await w.request('/log/store', {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'x'.repeat(2048),
  });
  assert.equal(r.status, 413);
  assert.match(r.body.code, /body_too_large/);
  assert.equal(await moved(...requests('/log/store', '413')), 1);
});

// --- line length and decompressed size

test('an NDJSON line over ingest.maxLineBytes is refused by number with 400 and counted as an invalid row', async (t) => {
  // the lines around it kept: test/ingest.test.ts
  const w = await build(t, { 'ingest.maxLineBytes': 100 });
  const moved = await metricsNow(w);
  const long = JSON.stringify({ series: 'x', value: 1, ts: T0, note: 'y'.repeat(200) });
  const r = await w.ingest([{ series: 'x', value: 1, ts: T0 }, long]);
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.invalid, [{ line: 2, error: 'line is longer than 100 bytes' }]);
  assert.equal(await moved('ingest_rows_invalid_total', { format: 'ndjson' }), 1);
  assert.equal(await moved('ingest_requests_total', { format: 'ndjson', status: '400' }), 1);
});

test('a gzip body decoding past ingest.maxDecompressedBytes gets 413 body_too_large, counted as a 413 ingest request', async (t) => {
  // the lines before the cut stored: test/ingest.test.ts
  const w = await build(t, { 'ingest.maxDecompressedBytes': MiB });
  const moved = await metricsNow(w);
  const r = await w.request('/ingest', {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
    body: gzipSync(Buffer.from('\n'.repeat(2 * MiB))), // 2 MiB of blank lines in about 2 KB
  });
  assert.equal(r.status, 413);
  assert.equal(r.body.code, 'body_too_large');
  assert.match(r.body.error, /ingest\.maxDecompressedBytes/);
  assert.equal(await moved('ingest_requests_total', { format: 'ndjson', status: '413' }), 1);
  assert.equal(await moved(...requests('/ingest', '413')), 1);
});

// --- timeouts

test('headers slower than http.headersTimeoutMs get 408, counted in http_requests_total under route unmatched', async (t) => {
  // status and shape: test/slow-clients.test.ts
  const w = await build(t, { 'http.headersTimeoutMs': 1000 });
  const moved = await metricsNow(w);
  const c = rawConnection(w.url);
  c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  await c.closedByServer();
  assert.equal(c.status(), 408);
  assert.equal(c.body().code, 'request_timeout');
  assert.equal(await moved('http_requests_total', { route: 'unmatched', status: '408' }), 1);
});

test('an ingest body slower than http.bodyTimeoutMs gets 408 request_timeout, counted as a 408 ingest request', async (t) => {
  // status and accepted count: test/ingest.test.ts, test/slow-clients.test.ts
  const w = await build(t, { 'http.bodyTimeoutMs': 200 });
  const moved = await metricsNow(w);
  const c = rawConnection(w.url);
  c.socket.write(
    `POST /ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${w.key}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 1000\r\n\r\n{"series":`,
  );
  await c.closedByServer();
  assert.equal(c.status(), 408);
  assert.equal(c.body().code, 'request_timeout');
  assert.match(c.body().error, /arrived too slowly/);
  assert.equal(await moved('ingest_requests_total', { format: 'ndjson', status: '408' }), 1);
  assert.equal(await moved(...requests('/ingest', '408')), 1);
});

test('a keep-alive connection idle longer than http.keepAliveTimeoutMs is closed by the server', async (t) => {
  const w = await build(t, { 'http.keepAliveTimeoutMs': 1000 });
  const moved = await metricsNow(w);
  const c = rawConnection(w.url);
  c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => c.status() === 200, 5000, 'the answer to GET /health');
  assert.doesNotMatch(c.state.text, /connection: close/i);
  await c.closedByServer();

  await t.test('counted in a metric', async () => {
    assert.equal(await moved('http_connections_closed_total', { reason: 'idle' }), 1);
  });
});

// --- queries: points per answer, span, catalog page size

test('a query over query.maxPoints gets 400 too_many_points naming the setting, counted by route and status', async (t) => {
  // more cases (buckets, several series): test/query.test.ts
  const w = await build(t, { 'query.maxPoints': 100 });
  assert.equal(
    (await w.ingest(Array.from({ length: 101 }, (_, i) => ({ series: 'p', value: i, ts: T0 + i })))).status,
    200,
  );
  const moved = await metricsNow(w);
  const r = await w.request(`/api/v1/query?series=p&start=${T0}&end=${T0 + D}`);
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'too_many_points');
  assert.match(r.body.error, /query\.maxPoints \(100\)/);
  assert.equal(await moved(...requests('/api/v1/query', '400')), 1);
});

test('a query spanning longer than query.maxSpanMs gets 400 span_too_long naming it', async (t) => {
  const w = await build(t, { 'query.maxSpanMs': D });
  const moved = await metricsNow(w);
  const r = await w.request(`/api/v1/query?series=p&start=${T0}&end=${T0 + 2 * D}&window=1d`);
  assert.equal(r.status, 400);
  assert.match(r.body.error, /query\.maxSpanMs/);
  assert.equal(await moved(...requests('/api/v1/query', '400')), 1);
});

test('a catalog page larger than the page limit gets 400 invalid_limit naming limit, counted by route and status', async (t) => {
  const w = await build(t);
  const moved = await metricsNow(w);
  const r = await w.request('/api/v1/series?limit=10001');
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'invalid_limit');
  assert.equal(r.body.field, 'limit');
  assert.match(r.body.error, /from 1 to 10000/);
  assert.equal(await moved(...requests('/api/v1/series', '400')), 1);

  await t.test('the page limit is a setting, query.catalogMaxLimit', async () => {
    const small = await build(t, { 'query.catalogMaxLimit': 10 });
    assert.equal((await small.request('/api/v1/series?limit=11')).status, 400);
  });
});

// --- the write queue: 503 with Retry-After

test('a full write queue (bus.queueLimit) answers 503 overloaded with Retry-After, counted in bus and ingest metrics', async (t) => {
  // the status on the in-process bus: test/ingest.test.ts; the metrics on NATS: test/roles.test.ts
  const w = await build(t, { 'bus.queueLimit': 1000 });
  let release!: () => void;
  const held = w.app.ctx.store.transaction(() => new Promise<void>((resolve) => (release = resolve)));
  try {
    const big = w.ingest(Array.from({ length: 2000 }, (_, i) => ({ series: 'q', value: i, ts: T0 + i })));
    await until(() => w.app.readings.backlogRows() >= 1000, 10_000, 'the queue to fill');
    const moved = await metricsNow(w);
    const refused = await w.ingest([{ series: 'q', value: 1, ts: T0 - 1 }]);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(refused.body.code, 'overloaded');
    assert.equal(await moved('ingest_requests_total', { format: 'ndjson', status: '503' }), 1);
    assert.ok((await moved('bus_publish_refused_total', { topic: 'readings' })) >= 1);
    release();
    assert.equal((await big).status, 200);
  } finally {
    release();
    await held;
  }
});

// --- rate limits

test('over rateLimit.http*, ingest and queries get 429 rate_limited with Retry-After, per key or else per address, counted by route and status', async (t) => {
  // the status on a query: test/grpc.test.ts
  const w = await build(t, { 'rateLimit.httpPerSecond': 1, 'rateLimit.httpBurst': 2 });
  const moved = await metricsNow(w);
  const anonymous = { headers: { authorization: '' } };
  for (let i = 0; i < 2; i++) assert.equal((await w.request('/api/v1/series', anonymous)).status, 200);
  const query = await w.request('/api/v1/series', anonymous);
  assert.equal(query.status, 429);
  assert.equal(query.body.code, 'rate_limited');
  assert.match(query.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
  // the key has a budget of its own, which ingest spends like any request
  for (let i = 0; i < 2; i++) assert.equal((await w.ingest([{ series: 'r', value: i, ts: T0 + i }])).status, 200);
  const ingest = await w.ingest([{ series: 'r', value: 2, ts: T0 + 2 }]);
  assert.equal(ingest.status, 429);
  assert.equal(ingest.body.code, 'rate_limited');
  assert.match(ingest.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
  assert.equal(await moved(...requests('/api/v1/series', '429')), 1);
  assert.equal(await moved(...requests('/ingest', '429')), 1);

  await t.test(
    'reads and writes have budgets of their own: a key that spent its on ingest can still query',
    async () => {
      assert.equal((await w.request('/api/v1/series')).status, 200);
    },
  );

  await t.test('made-up keys count against their address: inventing keys buys no budget', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push(
        (await w.request('/api/v1/series', { headers: { authorization: `Bearer made-up-key-${i}` } })).status,
      );
    assert.equal(statuses.at(-1), 429, `statuses ${statuses}`);
  });
});

// --- gRPC: rate limit and the Subscribe queue

const protoRoot = path.join(import.meta.dirname, '..', 'proto');
const protoOptions: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};
const grpcMethod = (file: string, service: string, name: string) =>
  (protoLoader.loadSync(file, { ...protoOptions, includeDirs: [protoRoot] })[service] as protoLoader.ServiceDefinition)[
    name
  ];
const QUERY_TIME_SERIES = grpcMethod('edgecom/timeseries.proto', 'edgecom.TimeSeriesService', 'QueryTimeSeries');
const SUBSCRIBE = grpcMethod('wattline/v1/readings.proto', 'wattline.v1.ReadingsService', 'Subscribe');

function grpcClient(t: TestContext, w: TestApp): grpc.Client {
  const client = new grpc.Client(w.app.grpcUrl!, grpc.credentials.createInsecure());
  t.after(() => client.close());
  return client;
}

/** One QueryTimeSeries call; resolves with its status code. */
const queryTimeSeries = (client: grpc.Client) =>
  new Promise<grpc.status>((resolve) =>
    client.makeUnaryRequest(
      QUERY_TIME_SERIES.path,
      QUERY_TIME_SERIES.requestSerialize,
      QUERY_TIME_SERIES.responseDeserialize,
      {},
      (err) => resolve(err ? err.code : grpc.status.OK),
    ),
  );

test('over rateLimit.grpc*, a gRPC call gets RESOURCE_EXHAUSTED, counted by code in grpc_server_handled_total', {}, async (t) => {
  // the status: test/grpc.test.ts
  const w = await build(t, { 'rateLimit.grpcPerSecond': 1, 'rateLimit.grpcBurst': 2 });
  const client = grpcClient(t, w);
  const moved = await metricsNow(w);
  const codes = [];
  for (let i = 0; i < 3; i++) codes.push(await queryTimeSeries(client));
  assert.equal(codes[2], grpc.status.RESOURCE_EXHAUSTED);
  assert.equal(await moved('grpc_server_handled_total', { grpc_code: 'RESOURCE_EXHAUSTED' }), 1);
});

test('a Subscribe stream further behind than grpc.subscribeMaxQueuedBytes is cut with RESOURCE_EXHAUSTED, counted in a metric', {
  timeout: 60_000,
}, async (t) => {
  // the cut and its reason: test/grpc.test.ts; the WebSocket bound and its metric: test/buildings-ws.test.ts
  const w = await build(t, { 'grpc.subscribeMaxQueuedBytes': 64 * 1024 });
  const moved = await metricsNow(w);
  // a client that stops reading: a plain HTTP/2 stream, paused, so flow control holds the server's frames
  const session = http2.connect(w.app.grpcUrl!.replace(/^(grpc:\/\/)?/, 'http://'));
  t.after(() => session.destroy());
  const idle = session.request({
    ':method': 'POST',
    ':path': SUBSCRIBE.path,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  const body = SUBSCRIBE.requestSerialize({ series: ['busy/power'] });
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  idle.end(frame);
  idle.pause();
  let trailers: http2.IncomingHttpHeaders | undefined;
  idle.on('trailers', (h) => (trailers = h));
  // a subscriber that reads: once it has a batch, the idle one was handed it too
  const reader = grpcClient(t, w).makeServerStreamRequest(
    SUBSCRIBE.path,
    SUBSCRIBE.requestSerialize,
    SUBSCRIBE.responseDeserialize,
    { series: ['busy/power'] },
  );
  t.after(() => reader.cancel());
  reader.on('error', () => undefined); // the cancel at the end
  let received = 0;
  reader.on('data', () => received++);
  await until(
    async () => {
      await w.ingest([{ series: 'busy/power', value: -1, ts: T0 - 1 }]);
      return received > 0;
    },
    10_000,
    'the subscriptions to start',
  );
  // ~42 bytes a reading: 10 batches of 1,000 are several times the bound and a stream's flow-control window
  const before = received;
  for (let batch = 0; batch < 10; batch++) {
    const lines = Array.from({ length: 1000 }, (_, i) => ({
      series: 'busy/power',
      value: i,
      ts: T0 + batch * 1000 + i,
    }));
    assert.equal((await w.ingest(lines)).status, 200);
    await until(() => received - before >= (batch + 1) * 1000, 20_000, `the reader to get batch ${batch + 1}`);
  }
  idle.resume();
  await until(() => trailers !== undefined, 20_000, 'the idle subscriber to end');
  assert.equal(trailers?.['grpc-status'], String(grpc.status.RESOURCE_EXHAUSTED));
  assert.match(decodeURIComponent(String(trailers?.['grpc-message'])), /grpc\.subscribeMaxQueuedBytes \(65536\)/);
  assert.equal(await moved('grpc_server_handled_total', { grpc_code: 'RESOURCE_EXHAUSTED' }), 1);
});

// --- MQTT in-flight

test('the MQTT subscriber holds at most mqtt.inFlight unacknowledged messages while the store is slow, and a metric shows how many', {
  timeout: 60_000,
}, async (t) => {
  if (!(await needService(t, 'mosquitto'))) return;
  const id = `wl-limits-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const w = await build(t, {
    'mqtt.url': services.mosquitto.url,
    'mqtt.clientId': id,
    'mqtt.subscriptions': JSON.stringify([{ topic: `wattline-test/${id}/#`, format: 'json' }]),
    'mqtt.inFlight': 2,
  });
  t.after(async () => {
    // the app's persistent session would never expire
    const c = await mqtt.connectAsync(services.mosquitto.url, {
      clientId: id,
      clean: true,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 0 },
    });
    await c.endAsync();
  });
  await until(async () => sample(await scrape(w), 'devices_mqtt_subscribed', {}) === 1, 10_000, 'the subscription');
  const publisher = await mqtt.connectAsync(services.mosquitto.url, { clientId: `${id}-pub` });
  t.after(() => publisher.endAsync());
  let release!: () => void;
  const held = w.app.ctx.store.transaction(() => new Promise<void>((resolve) => (release = resolve)));
  try {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        publisher.publishAsync(
          `wattline-test/${id}/dev`,
          JSON.stringify({ series: 'limits/mq/power', value: i, ts: new Date(T0 + i * 1000).toISOString(), unit: 'W' }),
          {
            qos: 1,
          },
        ),
      ),
    );
    await until(
      async () => sample(await scrape(w), 'devices_mqtt_unacknowledged', {}) === 2,
      5000,
      'two messages held unacknowledged',
    );
  } finally {
    release();
    await held;
  }
});
