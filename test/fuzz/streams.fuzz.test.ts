/**
 * Fuzzing what routes fuzzing cannot reach (issue 20, point 1): the gRPC methods' requests and the
 * WebSocket's client frames. Typed gRPC messages get generated field values (any strings, arrays,
 * timestamps from far past to far future, negative nanos); the WebSocket gets frames mutated from a
 * subscribe frame, and text that is not JSON at all. Every gRPC call must end within 5 s with a
 * status that says what was wrong (never INTERNAL or UNKNOWN); every WebSocket frame must be answered
 * `subscribed` or an `error` that names the problem, on a connection that stays open. A short run is
 * part of `npm test`; `npm run fuzz` campaigns write counterexamples to test/fuzz/regressions/streams/,
 * replayed below (harness.ts).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import { openLive } from '../buildings-ws-client.js';
import { build } from '../helpers.js';
import { type RegressionRecord, Regressions } from './harness.js';

const REGRESSIONS = new Regressions(path.join(import.meta.dirname, 'regressions', 'streams'));
/** Runs per property in the short run (`npm test`). */
const RUNS = 40;
/** Properties in this file: three gRPC methods and the WebSocket (campaigns share their minutes). */
const PROPERTIES = 4;
const DEADLINE_MS = 5000;
const protoRoot = path.join(import.meta.dirname, '..', '..', 'proto');
const load = (file: string, service: string, name: string) =>
  (
    protoLoader.loadSync(file, {
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
      includeDirs: [protoRoot],
    })[service] as protoLoader.ServiceDefinition
  )[name];
const QUERY = load('wattline/v1/readings.proto', 'wattline.v1.ReadingsService', 'Query');
const SUBSCRIBE = load('wattline/v1/readings.proto', 'wattline.v1.ReadingsService', 'Subscribe');
const EDGECOM = load('edgecom/timeseries.proto', 'edgecom.TimeSeriesService', 'QueryTimeSeries');

/** Statuses that tell the caller what to do; INTERNAL and UNKNOWN mean the server broke. */
const TELLING = new Set([
  grpc.status.OK,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.NOT_FOUND,
  grpc.status.OUT_OF_RANGE,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.CANCELLED, // a Subscribe we cancel ourselves
]);

const text = fc.oneof(
  fc.constantFrom(
    '',
    'edgecom',
    'fuzz/a',
    '*',
    '1h',
    '1d',
    '1m',
    'sum',
    'avg',
    'MIN',
    'SUM',
    'Europe/London',
    'kWh',
    'W',
    'null',
    '0',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ minLength: 1000, maxLength: 5000 }),
);
const timestamp = fc.oneof(
  fc.constant(undefined),
  fc.record({
    seconds: fc.oneof(
      fc.integer({ min: 1_700_000_000, max: 1_800_000_000 }),
      fc.integer({ min: -62_135_596_800, max: 253_402_300_799 }), // year 1 to 9999, protobuf's range
      fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
    ),
    nanos: fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: -2_000_000_000, max: 2_000_000_000 })),
  }),
);
const seriesList = fc.array(text, { maxLength: 30 });

/** One call; resolves with its end status (a Subscribe is cancelled after its first message or 300 ms). */
function call(client: grpc.Client, def: protoLoader.MethodDefinition<object, object>, request: object) {
  return new Promise<{ code: grpc.status; details: string }>((resolve) => {
    const deadline = new Date(Date.now() + DEADLINE_MS);
    if (def.responseStream) {
      const stream = client.makeServerStreamRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline },
      );
      const timer = setTimeout(() => stream.cancel(), 300);
      stream.on('data', () => stream.cancel());
      stream.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details }));
      stream.on('status', (s: grpc.StatusObject) => {
        clearTimeout(timer);
        resolve({ code: s.code, details: s.details });
      });
      return;
    }
    client.makeUnaryRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      request,
      new grpc.Metadata(),
      { deadline },
      (err) => resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' }),
    );
  });
}

async function grpcApp(t: TestContext) {
  const w = await build(t, { grpcPort: 0, 'rateLimit.grpcPerSecond': 0 });
  const T0 = Date.UTC(2024, 0, 1);
  await w.ingest(
    Array.from({ length: 200 }, (_, i) => ({ series: i % 2 ? 'edgecom' : 'fuzz/a', value: i, ts: T0 + i * 60_000 })),
  );
  const client = new grpc.Client(w.app.grpcUrl!, grpc.credentials.createInsecure());
  t.after(() => client.close());
  return client;
}

function checkEnd(what: string, request: object, end: { code: grpc.status; details: string }) {
  const shown = JSON.stringify(request).slice(0, 300);
  assert.notEqual(end.code, grpc.status.DEADLINE_EXCEEDED, `${what} hung: ${shown}`);
  assert.ok(TELLING.has(end.code), `${what} ended ${grpc.status[end.code]} (${end.details}): ${shown}`);
  if (end.code !== grpc.status.OK && end.code !== grpc.status.CANCELLED)
    assert.ok(end.details.length > 0, `${what} ${grpc.status[end.code]} without details: ${shown}`);
}

const query = fc.record(
  { series: seriesList, start: timestamp, end: timestamp, window: text, agg: text, tz: text, fill: text, unit: text },
  { requiredKeys: [] },
);
const edgecom = fc.record({ start: timestamp, end: timestamp, window: text, aggregation: text }, { requiredKeys: [] });
const subscribe = fc.record({ series: seriesList }, { requiredKeys: [] });
/** Each gRPC method's property, by name (as a regression case names it). */
const GRPC_METHODS = {
  'gRPC Query': { def: QUERY, request: query },
  'gRPC QueryTimeSeries': { def: EDGECOM, request: edgecom },
  'gRPC Subscribe': { def: SUBSCRIBE, request: subscribe },
} as const;
const WEBSOCKET = 'WebSocket frame';

/** Regression cases of `prefix`'s properties; one that names no property here fails the file. */
function regressionsOf(prefix: string): [string, RegressionRecord<never>][] {
  return REGRESSIONS.records<never>().filter(([, r]) => r.property.startsWith(prefix));
}
test('every regression case of this file names one of its properties', () => {
  const known = new Set<string>([...Object.keys(GRPC_METHODS), WEBSOCKET]);
  for (const [file, record] of REGRESSIONS.records())
    assert.ok(known.has(record.property), `${file}: ${record.property}`);
});

test('gRPC: every method ends with a status that says what was wrong, whatever its request holds', {
  timeout: 120_000,
}, async (t) => {
  const client = await grpcApp(t);
  const predicate = (name: keyof typeof GRPC_METHODS) => async (request: object) =>
    checkEnd(name, request, await call(client, GRPC_METHODS[name].def, request));
  for (const name of Object.keys(GRPC_METHODS) as (keyof typeof GRPC_METHODS)[])
    await t.test(`fuzz: ${name}`, () =>
      REGRESSIONS.check(name, GRPC_METHODS[name].request as fc.Arbitrary<object>, predicate(name), {
        runs: RUNS,
        properties: PROPERTIES,
        timeoutMs: DEADLINE_MS + 2_000,
      }),
    );
  for (const [file, record] of regressionsOf('gRPC '))
    await t.test(`regression ${file}`, { todo: record.todo }, () =>
      predicate(record.property as keyof typeof GRPC_METHODS)(record.input),
    );
  // and the server still answers afterwards
  checkEnd(
    'Query',
    {},
    await call(client, QUERY, { series: ['fuzz/a'], start: { seconds: 0 }, end: { seconds: 2e9 } }),
  );
});

const frame = fc.oneof(
  // subscribe/unsubscribe frames with fields of any shape
  fc
    .record(
      {
        action: fc.oneof(fc.constantFrom('subscribe', 'unsubscribe', 'Subscribe', '', 'ping'), fc.anything()),
        sensors: fc.oneof(fc.array(text, { maxLength: 20 }), fc.anything()),
        rooms: fc.oneof(fc.array(text, { maxLength: 20 }), fc.anything()),
        series: fc.oneof(
          fc.array(fc.oneof(text, fc.constantFrom('home/*', '*', 'a/**', '/', 'x*y')), { maxLength: 50 }),
          fc.anything(),
        ),
      },
      { requiredKeys: [] },
    )
    .map((f) => JSON.stringify(f)),
  // JSON that is not an object, and text that is not JSON
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{', '{"action":"subscribe","series":', 'null', '[]', '{"__proto__":{"series":["x"]}}'),
);

test('WebSocket: every client frame is answered subscribed or an error naming the problem, and the connection stays open', {
  timeout: 120_000,
}, async (t) => {
  const w = await build(t);
  const live = await openLive(`${w.url.replace(/^http/, 'ws')}/api/v1/ws`);
  t.after(() => live.ws.terminate());
  const predicate = async (sent: string) => {
    live.ws.send(sent);
    const [reply] = (
      await live.until((f) => f.type === 'subscribed' || f.type === 'error', sent.slice(0, 200), DEADLINE_MS)
    ).slice(-1);
    if (reply.type === 'error')
      assert.ok(
        typeof reply.error === 'string' && reply.error.length > 0,
        `error without words for ${sent.slice(0, 200)}`,
      );
    assert.equal(live.ws.readyState, live.ws.OPEN, `closed after ${sent.slice(0, 200)}`);
  };
  await t.test(`fuzz: ${WEBSOCKET}`, () =>
    REGRESSIONS.check(WEBSOCKET, frame, predicate, {
      runs: RUNS * 3,
      properties: PROPERTIES,
      timeoutMs: DEADLINE_MS + 2_000,
    }),
  );
  for (const [file, record] of regressionsOf(WEBSOCKET))
    await t.test(`regression ${file}`, { todo: record.todo }, () => predicate(record.input));
});
