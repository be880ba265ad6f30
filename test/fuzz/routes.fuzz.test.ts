/**
 * Fuzzing the routes (issue 20, point 1): every operation of `/openapi.json` gets requests generated
 * from its schema (path and query parameters, JSON bodies) and mutated (wrong types, missing required
 * fields, huge numbers, NaN-like strings, unicode, long strings, extra fields, empty bodies, invalid
 * JSON, odd content types, bad keys); routes whose bodies are not JSON (NDJSON `/ingest`, line
 * protocol `/write` and `/api/v2/write`, sensor-log lines, the Emoncms input API, files dropped in a
 * watched folder) get mutated real samples. One in-process app (embedded store) takes them all.
 *
 * The property, for every request: the answer comes within REQUEST_TIMEOUT_MS, its status is below
 * 500 (a 503 only with Retry-After), and a 4xx names the problem (`{"error","code"}`, or the wire
 * format of the clients a compatibility route serves: see ERROR_SHAPES). An unhandled rejection in
 * the app fails the file (node:test reports it).
 *
 * As in every fuzz file (harness.ts): a short run is part of `npm test`; `npm run fuzz -- --minutes N`
 * runs longer campaigns and writes each counterexample (the request, shrunk) to
 * test/fuzz/regressions/routes/, where it is replayed below. A request that crashes the process writes no
 * counterexample: a campaign keeps the request in flight there (crashed-the-process-<pid>.json, gone
 * when the run ends), and FUZZ_TRACE=<file> logs every request. FUZZ_STATS=1 lists the statuses each
 * operation answered.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { build, sendJson, type TestApp, tempDir } from '../helpers.js';
import { assertLinearTime, FUZZ, Regressions, TIMING_SKIP } from './harness.js';
import { type Mutation, mutate, textArbitraries } from './mutations.js';

// ---------------------------------------------------------------------------------------------
// the harness

const ROOT = path.resolve(import.meta.dirname, '../..');
const REGRESSIONS = new Regressions(path.join(import.meta.dirname, 'regressions', 'routes'));
/** FUZZ_STATS=1: the statuses each operation answered, as test diagnostics (is a route reached past its 400s?). */
const STATS = process.env.FUZZ_STATS === '1';
/**
 * FUZZ_TRACE=<file>: each request is written there (one JSON line, as a regression's `input`) before it
 * is sent. A request that crashes the process leaves no counterexample; the file's last line is it.
 */
const TRACE = process.env.FUZZ_TRACE;
/** An answer slower than this is a hang (or a superlinear path): a failure. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Runs per operation in the short run (`npm test`); OVERRIDES give some fewer or more. */
const RUNS = 12;

// ---------------------------------------------------------------------------------------------
// a request, as JSON (a counterexample is written and replayed as it is)

interface Req {
  method: string;
  /** The path as sent: parameters already encoded (a mutation may have left it malformed). */
  path: string;
  /** Query pairs in order; a name may repeat. */
  query: [string, string][];
  /** Appended to the query string unencoded (`%zz`, `&&=`). */
  rawQuery?: string;
  /** The Authorization header; `$KEY` is the admin key, `$BASIC` it as basic auth. Null: none. */
  auth: string | null;
  contentType?: string;
  body?: string;
  /** The body compressed (`cut`: only its first bytes), sent with `header` as Content-Encoding. */
  compress?: { as: 'gzip' | 'deflate' | 'br' | 'zlib'; header?: string; cut?: number };
  /** A file put in the watched folder before the request. */
  file?: { name: string; text: string };
}

/** Text as a URL can carry it: a lone surrogate (which UTF-8 cannot encode) as U+FFFD, as TextEncoder does. */
const wellFormed = (s: string) =>
  s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
const encode = (s: string) => encodeURIComponent(wellFormed(s));
const headerSafe = (s: string) => s.replace(/[^\x20-\x7e\xa0-\xff]/g, '?');

function bodyBytes(req: Req): Uint8Array<ArrayBuffer> | undefined {
  if (req.body === undefined || req.method === 'GET' || req.method === 'HEAD') return undefined;
  let bytes = Buffer.from(req.body, 'utf8');
  if (req.compress) {
    const c = req.compress;
    bytes =
      c.as === 'gzip'
        ? zlib.gzipSync(bytes)
        : c.as === 'br'
          ? zlib.brotliCompressSync(bytes)
          : c.as === 'deflate'
            ? zlib.deflateSync(bytes)
            : zlib.deflateSync(bytes);
    if (c.cut !== undefined) bytes = bytes.subarray(0, c.cut % (bytes.length + 1));
  }
  // a Uint8Array: fetch gives a string body a text/plain type of its own
  return new Uint8Array(bytes);
}

function urlOf(w: TestApp, req: Req): string {
  const query = req.query.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
  const raw = req.rawQuery ?? '';
  const search = query || raw ? `?${query}${query && raw ? '&' : ''}${raw}` : '';
  return w.url + req.path + search;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function exchange(w: TestApp, req: Req, dropDir: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Answer> {
  if (TRACE) fs.appendFileSync(TRACE, `${JSON.stringify(req)}\n`);
  if (req.file) fs.writeFileSync(path.join(dropDir, req.file.name), req.file.text);
  const headers = new Headers();
  if (req.auth !== null) {
    const basic = Buffer.from(`${w.key}:`).toString('base64');
    headers.set('authorization', headerSafe(req.auth.replaceAll('$KEY', w.key).replaceAll('$BASIC', basic)));
  }
  if (req.contentType !== undefined) headers.set('content-type', headerSafe(req.contentType));
  if (req.compress?.header !== undefined) headers.set('content-encoding', headerSafe(req.compress.header));
  const body = bodyBytes(req);
  const signal = AbortSignal.timeout(timeoutMs);
  const t0 = performance.now();
  try {
    const response = await fetch(urlOf(w, req), { method: req.method, headers, body, signal });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  } catch (err) {
    if ((err as Error).name === 'TimeoutError')
      throw new Error(`no answer within ${timeoutMs} ms (hung, or too slow for its input)`);
    throw new Error(`the request failed after ${Math.round(performance.now() - t0)} ms: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

// biome-ignore lint/suspicious/noExplicitAny: an error body is read field by field
type Body = any;
const named = (v: unknown) => typeof v === 'string' && v.trim() !== '';
const coreError = (b: Body) => named(b?.error) && named(b?.code);
/**
 * How a 4xx names the problem: core's `{"error","code"}` everywhere, or the wire format of the
 * clients a compatibility route was built for (its documented reply; each also takes core's).
 */
const ERROR_SHAPES: Record<string, (b: Body) => boolean> = {
  // InfluxDB 1.x answers {"error"} (Telegraf and the client libraries read it)
  'POST /write': (b) => named(b?.error),
  'GET /query': (b) => named(b?.error),
  'POST /query': (b) => named(b?.error),
  // InfluxDB 2.x answers {"code","message"}
  'POST /api/v2/write': (b) => named(b?.code) && named(b?.message),
  // the bad lines by number, the good ones stored ({accepted, invalid:[{line|item, error}]})
  'POST /ingest': (b) =>
    Array.isArray(b?.invalid) && b.invalid.length > 0 && b.invalid.every((e: Body) => named(e?.error)),
  // the energy-sensors service's {"error"} for one event; several: the bad ones by line
  'POST /log/store': (b) =>
    named(b?.error) ||
    (Array.isArray(b?.errors) && b.errors.length > 0 && b.errors.every((e: Body) => named(e?.error))),
};

function checkAnswer(op: string, req: Req, a: Answer) {
  const shown = () => `${a.status} ${a.text.slice(0, 300)}`;
  if (a.status === 503) assert.ok(a.headers.get('retry-after'), `503 without Retry-After: ${shown()}`);
  else assert.ok(a.status < 500, `a server error: ${shown()}`);
  if (a.status < 400 || a.status >= 500 || req.method === 'HEAD') return;
  assert.match(a.headers.get('content-type') ?? '', /json/, `a ${a.status} that is not JSON: ${shown()}`);
  let body: Body;
  try {
    body = JSON.parse(a.text);
  } catch {
    assert.fail(`a ${a.status} whose body is not JSON: ${shown()}`);
  }
  const shape = ERROR_SHAPES[op];
  assert.ok(coreError(body) || shape?.(body), `a ${a.status} that does not name the problem: ${shown()}`);
}

// ---------------------------------------------------------------------------------------------
// samples: the repository's recorded payloads and fixtures, and the lines the parser fuzzing starts from

const readLines = (file: string) =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
    : [];

const NDJSON_SAMPLES = [
  ...readLines(path.join(ROOT, 'samples/readings.ndjson')).slice(0, 20),
  ...readLines(path.join(ROOT, 'samples/cloud-lada.ndjson')).slice(0, 20),
  ...readLines(path.join(ROOT, '../shared/seed-data/cloud-lada/ingest-sample.ndjson')).slice(0, 20),
  '{"series":"a/b","value":1,"ts":"2024-06-01T00:00:00Z","unit":"kWh","kind":"counter"}',
  '{"series":"a/b","value":-1.5e3,"ts":1717200000}',
  '{"sensor":"sensors/s1","value":230.5,"timestamp":"2024-06-03T10:00:00Z"}',
];

const NS = '1717200000000000000';
/** Line-protocol lines as line-protocol.test.ts writes them (the same as parsers.fuzz.test.ts). */
const LP_SAMPLES = [
  `my\\ meter\\,x,tag\\ key\\,a\\=b=val\\ 1\\,2\\=3,path=C:\\\\dir\\x,q="x" field\\ one\\=x\\,y=1 ${NS}`,
  `m\\=x v=1 ${NS}`,
  `m,host=a state="on, off = \\"x\\" \\\\",power=5,note="a b\\\\",energy=7 ${NS}`,
  `m a=1,b=1.5,c=-1e3,d=1.,e=.5,f=-0.25,g=2E+2,h=12i,i=-7i,j=12u,k=0u,l=1234567.125 ${NS}`,
  `b,n=1 on=t ${NS}`,
  `m x=9007199254740993i,y=9007199254740991i,z=18446744073709551615u ${NS}`,
  'cpu,host=a usage=0.5 1717200000',
  '# a comment',
  'temp°C,room=küche value=21.5',
];

const SENSORLOG_SAMPLES = [
  ...readLines(path.join(ROOT, 'src/modules/sensorlog/testcases/events.txt')).slice(0, 10),
  'Device: ID=1; Fw=16071801; Evt=2;',
  'Foo: Bar=A;B;C;',
  'UTC Time: 2016-10-4 16:47:50; hz: 49.87',
  'Peaks: 1;2;3',
];

/** The recorded MQTT payloads of test/fixtures/devices (Shelly, Tasmota): their objects, and their numbers by name. */
const DEVICE_PAYLOADS: Record<string, unknown>[] = [];
const DEVICE_INPUTS: Record<string, number>[] = [];
{
  const dir = path.join(ROOT, 'test/fixtures/devices');
  const numbers = (v: unknown, prefix: string, into: Record<string, number>) => {
    if (typeof v === 'number') into[prefix || 'value'] = v;
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) numbers(x, prefix ? `${prefix}_${k}` : k, into);
  };
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const messages = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { payload?: unknown }[];
    for (const m of messages.slice(0, 4)) {
      if (!m.payload || typeof m.payload !== 'object') continue;
      DEVICE_PAYLOADS.push(m.payload as Record<string, unknown>);
      const inputs: Record<string, number> = {};
      numbers(m.payload, '', inputs);
      DEVICE_INPUTS.push(inputs);
    }
  }
}

/** A load-curve file as the seed's FTP server holds them, and delimited files (as parsers.fuzz.test.ts). */
const FILE_SAMPLES = [
  [
    'METERPOINT;PT0002000000000000001',
    'DATE;TIME;KWH',
    '20240301;00:15;1,25',
    '20240301;00:30;1,5',
    '20240301;00:45;0',
  ].join('\n'),
  ['time;kWh;kW', '2024-03-01 00:15;1,234;0,5', '2024-03-01 00:30;2,5;0,75'].join('\n'),
  ['# meter: PT0001', 'timestamp,meter,kwh', '2024-03-01T00:15:00Z,PT0001,1.5', '2024-03-01T00:30:00Z,PT0001,2'].join(
    '\n',
  ),
];

// ---------------------------------------------------------------------------------------------
// arbitraries (the mutation operators are shared: mutations.ts)

const { anyString, mutation, mutated } = textArbitraries({ extraSpecial: '/%?&', maxLength: 40 });

/** `arbitrary` in one of `oneIn` values, null in the others. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });

/** A sample as it is, mutated, or arbitrary text. */
const sampleOr = (samples: readonly string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...samples) },
    { weight: 3, arbitrary: mutated(samples) },
    { weight: 1, arbitrary: anyString },
  );

/** Lines from every source joined as a body. */
const lines = (samples: readonly string[], most = 8) =>
  fc
    .tuple(
      fc.array(fc.oneof(anyString, mutated(samples), fc.constantFrom(...samples)), { maxLength: most }),
      fc.constantFrom('\n', '\r\n'),
      fc.boolean(),
    )
    .map(([ls, eol, last]) => ls.join(eol) + (last ? eol : ''));

/** Longest generated string: a few times the limits the schemas state, well under the body limit. */
const LONG_MAX = 70_000;
const longString = fc
  .tuple(
    fc.constantFrom(201, 256, 1001, 4097, 10_000, 65_537, LONG_MAX),
    fc.constantFrom('x', 'é', '⚡', '\ud83d\ude00', '%'),
  )
  .map(([n, c]) => c.repeat(Math.ceil(n / c.length)));

/** Values that are wrong wherever they go: types, extremes, NaN-like and date-like text, unicode. */
const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1e308,
    -1e308,
    2 ** 53 + 1,
    -(2 ** 63),
    5e-324,
    0.1,
    'NaN',
    'Infinity',
    '-Infinity',
    '1e999',
    '-0',
    '0x1f',
    ' 1 ',
    '',
    ' ',
    'null',
    'undefined',
    'true',
    '[]',
    '{}',
    '2024-02-30',
    '2024-13-01T25:61:61Z',
    '9999-12-31T23:59:59Z',
    '+275760-09-13T00:00:00Z',
    '-000001-01-01T00:00:00Z',
    '0000-01-01',
    '1717200000000',
    '17172000000000000000000',
    '-1717200000',
    '__proto__',
    'constructor',
    '../../etc/passwd',
    "'; DROP TABLE readings; --",
    '*',
    '%',
    '\u0000',
    '\ud800',
    '\ufeff',
  ),
  anyString,
  longString,
  fc.double(),
  fc.integer(),
  fc.array(fc.oneof(fc.integer(), anyString, fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(anyString, fc.oneof(fc.integer(), anyString), { maxKeys: 3 }),
);

/** Values the routes know (existing rooms, sensors, series, events; good dates and zones), by field name. */
const KNOWN: Record<string, string[]> = {
  series: [
    'a/b',
    'home/power',
    'sensors/s1',
    'sensors/e1',
    'emoncms/emontx/P1',
    'cpu/usage',
    'a/b,sensors/s1',
    'home/*',
  ],
  key: ['a/b', 'sensors/s1'],
  prefix: ['a/', 'sensors/', ''],
  energy: ['sensors/e1', 'sensors/s1', 'a/b', 'emoncms/emontx/P1'],
  tariff: ['tariff/unit-rate/inc-vat', 'a/b'],
  standing: ['tariff/standing-charge/inc-vat'],
  intensity: ['grid/carbon-intensity/actual', 'a/b'],
  time: ['2024-06-01T00:00:00Z', '2024-06-03T11:00:00', '2024-06-03T10:00:00.000+01:00', '1717200000', '1717200000000'],
  date: ['2024-06-01', '2024-06-03', '2016-10-04', '2024-03-31', '2024-10-27'],
  tz: ['UTC', 'Europe/London', 'Europe/Lisbon', 'Asia/Kolkata', 'America/St_Johns', 'Not/AZone'],
  id: ['s1', 'e1', 'generated', 'nope'],
  name: ['Kitchen', 'Hall', 'edgecom', 'octopus-tariff', 'carbon-intensity', 'generation-mix'],
  room: ['Kitchen', 'Hall'],
  sensor: ['speed', 'fuel', 'revolution', 'engine_temperature', 'location_latitude', 'location_longitude'],
  node: ['emontx', '5', 'emonpi'],
  iot: ['s1', 'e1', 'plug-1'],
  sensor_id: ['s1', 'e1', 's2'],
  sensor_type: ['power', 'energy', 'temperature', 'generic'],
  unit: ['W', 'kWh', '°C', 'p/kWh'],
  kind: ['gauge', 'counter', 'interval'],
  topic: ['readings', 'events'],
  pattern: ['home/*', '*', 'a/?'],
  location: ['drops'],
  status: ['online', 'pending', 'ingested', 'rejected', 'answered'],
  window: ['1m', '15m', '1h', '1d', 'week', 'month'],
  agg: ['avg', 'sum', 'increase', 'integral'],
  precision: ['s', 'ms', 'us', 'ns', 'n', 'u', 'h', 'm'],
  response: ['YES', 'NO'],
  format: ['ndjson', 'csv', 'parquet'],
  cursor: ['a/b'],
  hours: ['1', '24', '0.5', '8760'],
  limit: ['1', '10', '10000'],
  offset: ['0', '1', '5'],
  cluster: ['-1', '0', '3'],
};
const TIME_FIELDS = ['start', 'end', 'start_time', 'end_time', 'from', 'to', 'event_time', 'timestamp', 'ts', 'time'];
const DATE_FIELDS = ['date'];
/** Known values of a field (from, to, start… are times; `*` is a series). */
function knownFor(name: string): string[] {
  if (name === '*') return [...KNOWN.series.filter((s) => !s.includes(',')), 'devices/poll/dev1', 'poll/dev1'];
  if (name === 'timezone') return KNOWN.tz;
  if (TIME_FIELDS.includes(name)) return [...KNOWN.time, ...KNOWN.date];
  if (DATE_FIELDS.includes(name)) return KNOWN.date;
  return KNOWN[name] ?? [];
}

// ---------------------------------------------------------------------------------------------
// JSON schema → arbitraries: conforming values, and mutated ones

interface Schema {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  nullable?: boolean;
}

/** Values the schema allows (strings the route knows for the field's name among them). */
function conforming(schema: Schema, name = ''): fc.Arbitrary<unknown> {
  const base = conformingBase(schema, name);
  return schema.nullable ? fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 4, arbitrary: base }) : base;
}

function conformingBase(s: Schema, name: string): fc.Arbitrary<unknown> {
  if (s.enum) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'string': {
      const minLength = s.minLength ?? 0;
      const maxLength = s.maxLength ?? 40;
      const known = knownFor(name).filter((k) => k.length >= minLength && k.length <= maxLength);
      const text = fc.string({ minLength, maxLength: Math.min(maxLength, 40) });
      const edge = fc.constant('x'.repeat(Math.min(maxLength, LONG_MAX)));
      return known.length
        ? fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: text }, edge)
        : fc.oneof({ weight: 4, arbitrary: text }, edge);
    }
    case 'integer': {
      const min = s.minimum ?? (s.exclusiveMinimum === undefined ? -1_000_000 : s.exclusiveMinimum + 1);
      const max = s.maximum ?? Math.max(min, 0) + 1_000_000;
      return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max));
    }
    case 'number': {
      const min = s.minimum ?? s.exclusiveMinimum ?? -1e9;
      const max = s.maximum ?? 1e9;
      return fc
        .double({ min, max, noNaN: true, noDefaultInfinity: true })
        .filter((v) => s.exclusiveMinimum === undefined || v > s.exclusiveMinimum);
    }
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(conforming(s.items ?? {}, name), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 4, Math.max(s.minItems ?? 0, 4)),
      });
    case 'object': {
      const properties = s.properties ?? {};
      const record =
        Object.keys(properties).length > 0
          ? fc.record(Object.fromEntries(Object.entries(properties).map(([k, p]) => [k, conforming(p, k)])), {
              requiredKeys: s.required ?? [],
            })
          : fc.constant({});
      const extra =
        typeof s.additionalProperties === 'object'
          ? fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), conforming(s.additionalProperties), {
              maxKeys: Math.min(s.maxProperties ?? 3, 3),
            })
          : fc.constant({});
      return fc.tuple(record, extra).map(([r, e]) => ({ ...e, ...r }));
    }
    default: {
      // no type: anything JSON, and the strings the field knows
      const known = knownFor(name);
      const json = fc.jsonValue({ maxDepth: 2 });
      return known.length ? fc.oneof(fc.constantFrom(...known), json) : json;
    }
  }
}

/** One change somewhere in a JSON value: a value replaced, a key dropped, a key added. */
type JsonMutation = { kind: 'replace' | 'drop' | 'add'; at: number; key: string; value: unknown };
const jsonMutation: fc.Arbitrary<JsonMutation> = fc.record({
  kind: fc.constantFrom('replace', 'drop', 'add'),
  at: fc.nat(),
  key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'extra', 'toString', ''), anyString),
  value: weird,
});

type Json = unknown;
function containers(v: Json, into: Json[] = []): Json[] {
  if (v && typeof v === 'object') {
    into.push(v);
    for (const x of Object.values(v)) containers(x, into);
  }
  return into;
}

function mutateJson(value: Json, mutations: JsonMutation[]): Json {
  let root = structuredClone(value);
  for (const m of mutations) {
    const all = containers(root);
    if (all.length === 0) {
      root = m.value;
      continue;
    }
    const target = all[m.at % all.length] as Record<string, Json> | Json[];
    const keys = Object.keys(target);
    const key = keys.length ? keys[m.at % keys.length] : m.key;
    if (m.kind === 'replace' && keys.length) (target as Record<string, Json>)[key] = m.value;
    else if (m.kind === 'drop' && keys.length) {
      if (Array.isArray(target)) target.splice(Number(key), 1);
      else delete target[key];
    } else if (Array.isArray(target)) target.push(m.value);
    // defineProperty: `__proto__` as an own key, as JSON.parse makes it
    else Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

/** JSON text that is broken, odd, or not the kind of value the route wants. */
const oddJsonText = fc.constantFrom(
  '',
  ' ',
  'null',
  '[]',
  '{}',
  '"x"',
  '0',
  '{',
  '{"a":',
  '[1,2',
  '\ufeff{}',
  '{"a":1,"a":2}',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '{"a":1e999999}',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`,
  'undefined',
  'NaN',
  "{'a':1}",
);

/** Content types a JSON route gets: mostly JSON, sometimes what clients get wrong. */
const jsonContentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    undefined,
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'APPLICATION/JSON',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/x-ndjson',
    'application/octet-stream',
    'a/b/c',
    '',
  ),
);

/** A JSON body for `schema`: conforming, mutated in a few places, broken text, or odd text. */
function jsonBody(value: fc.Arbitrary<unknown>): fc.Arbitrary<Pick<Req, 'body' | 'contentType'>> {
  const text = fc.oneof(
    { weight: 4, arbitrary: value.map((v) => JSON.stringify(v)) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(value, fc.array(jsonMutation, { minLength: 1, maxLength: 3 }))
        .map(([v, ms]) => JSON.stringify(mutateJson(v, ms)) ?? ''),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(value, fc.array(mutation, { minLength: 1, maxLength: 3 }))
        .map(([v, ms]) => mutate(JSON.stringify(v) ?? '', ms)),
    },
    { weight: 1, arbitrary: oddJsonText },
  );
  return fc.record({ body: text, contentType: jsonContentType });
}

const asText = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
/** A parameter's value as text: known or conforming. */
const paramText = (schema: Schema, name: string) => conforming(schema, name).map(asText);
/** A wrong value for a parameter: something weird, or its good value garbled. */
const wrongText = (good: string) =>
  fc.oneof(
    weird.map(asText),
    fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => mutate(good, ms)),
  );

/** One change to a request's query: a value made wrong, a parameter twice (an array to a handler), one dropped, one added. */
type QueryMutation = { kind: 'wrong' | 'twice' | 'drop' | 'extra'; at: number; name: string; garble: Mutation[] };
const queryMutation: fc.Arbitrary<QueryMutation> = fc.record({
  kind: fc.constantFrom('wrong', 'twice', 'drop', 'extra'),
  at: fc.nat(),
  name: fc.oneof(fc.constant(''), anyString),
  garble: fc.array(mutation, { maxLength: 3 }),
});

/** Path text: encoded (a `*` parameter keeps its slashes), sometimes with raw characters put in. */
const RAW_PATH_BITS = ['%', '%zz', '%c0%af', '%00', '%ff', '..', '/..', '//', '%2F', '%2e%2e', ';', '%E2%82'];
function encodedParam(name: string) {
  return (text: string, raw: string | null, at: number) => {
    const encoded = name === '*' ? text.split('/').map(encode).join('/') : encode(text);
    if (raw === null) return encoded;
    const i = at % (encoded.length + 1);
    return encoded.slice(0, i) + raw + encoded.slice(i);
  };
}

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

type BodyPart = Pick<Req, 'body' | 'contentType' | 'compress' | 'file'>;
interface Override {
  /** Runs in the short run, instead of RUNS. */
  runs?: number;
  /** Why the operation is not fuzzed. */
  skip?: string;
  /** Query parameters the document does not list (the route reads them anyway): good values (mutations add wrong ones). */
  query?: Record<string, fc.Arbitrary<string>>;
  /** The body, where it is not the document's JSON schema (or is made from it). */
  body?: fc.Arbitrary<BodyPart> | ((documented: Schema) => fc.Arbitrary<BodyPart>);
  /** A body schema where the document has none (the route validates it by hand). */
  schema?: Schema;
  /** The longest an answer may take, instead of REQUEST_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Query parameters the route needs though the document calls them optional: always given (then mutated like the rest). */
  always?: string[];
  /** Values for a path parameter, instead of the known and generated ones. */
  path?: Record<string, fc.Arbitrary<string>>;
}

/** How the key is sent: mostly the admin key; no key, a wrong one, a malformed header. */
const auth: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 16, arbitrary: fc.constant('Bearer $KEY') },
  fc.constantFrom(
    null,
    'Basic $BASIC',
    'Token $KEY',
    'Bearer wl_wrong0000000000000000000000000000',
    'Bearer',
    'Basic !!!',
    'Basic Og==',
    '$KEY',
    'bearer $KEY',
  ),
  anyString.map((s) => `Bearer ${s}`),
);

/** Requests for one operation: its parameters and body from the document (or the override), mutated. */
function requests(method: string, pathname: string, op: Operation, o: Override): fc.Arbitrary<Req> {
  const parameters = op.parameters ?? [];
  const pathParams = parameters.filter((p) => p.in === 'path');
  const queryParams = parameters.filter((p) => p.in === 'query');

  const pathValue = (p: Parameter) => {
    const good = o.path?.[p.name] ?? paramText(p.schema ?? { type: 'string' }, p.name);
    const text = fc.oneof({ weight: 4, arbitrary: good }, good.chain(wrongText));
    return fc
      .tuple(text, sometimes(fc.constantFrom(...RAW_PATH_BITS), 10), fc.nat())
      .map(([t, raw, at]) => encodedParam(p.name)(t, raw, at));
  };
  const pathArb = fc.tuple(...pathParams.map(pathValue)).map((values) => {
    let i = 0;
    return pathname.replace(/\{[^}]+\}/g, () => values[i++] ?? '');
  });

  // each documented parameter absent or good; then, in most requests, a few changes (wrong values
  // among them: one per request reaches a handler past the others' checks more often than many)
  // the override's good values take the place of the document's (one value each: twice is a mutation)
  const queryValues = [
    ...new Map<string, fc.Arbitrary<string>>([
      ...queryParams.map((p): [string, fc.Arbitrary<string>] => [
        p.name,
        paramText(p.schema ?? { type: 'string' }, p.name),
      ]),
      ...Object.entries(o.query ?? {}),
    ]),
  ];
  const names = queryValues.map(([name]) => name);
  const wrongs = fc.array(fc.oneof(weird.map(asText), anyString), { minLength: 4, maxLength: 4 });
  const queryArb = fc
    .tuple(
      fc.tuple(
        ...queryValues.map(([name, value]) => {
          const pair = value.map((v): [string, string] => [name, v]);
          return o.always?.includes(name) ? pair : fc.option(pair, { freq: 3 });
        }),
      ),
      fc.array(queryMutation, { maxLength: 3 }),
      wrongs,
    )
    .map(([given, mutations, wrong]) => {
      const pairs = given.filter((p) => p !== null);
      mutations.forEach((m, i) => {
        const target = pairs.length ? m.at % pairs.length : -1;
        const value = m.garble.length && target >= 0 ? mutate(pairs[target][1], m.garble) : wrong[i];
        if (m.kind === 'extra' || target < 0) {
          // a parameter the route knows (absent so far) or one it does not
          const name = names.length && m.at % 2 === 0 ? names[m.at % names.length] : m.name;
          pairs.push([name, value]);
        } else if (m.kind === 'wrong') pairs[target] = [pairs[target][0], value];
        else if (m.kind === 'twice') pairs.push([pairs[target][0], value]);
        else pairs.splice(target, 1);
      });
      return pairs;
    });

  const documented = op.requestBody?.content?.['application/json']?.schema;
  const schema = o.schema ?? documented;
  const hasBody = method !== 'GET' && method !== 'HEAD' && method !== 'DELETE';
  const bodyArb: fc.Arbitrary<BodyPart> = o.body
    ? typeof o.body === 'function'
      ? o.body(schema ?? {})
      : o.body
    : schema
      ? jsonBody(conforming(schema))
      : hasBody
        ? // no body documented: none, mostly; sometimes one anyway
          fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, jsonBody(fc.jsonValue({ maxDepth: 2 })))
        : fc.constant({});

  return fc
    .record({
      path: pathArb,
      query: queryArb,
      rawQuery: sometimes(fc.constantFrom('%zz', '&&=', '%00=%ff', 'a[b]=1', 'a[]=1&a[]=2', '=', '%'), 15),
      auth,
      body: bodyArb,
    })
    .map(({ body, rawQuery, ...rest }) => ({
      method,
      ...rest,
      ...(rawQuery === null ? {} : { rawQuery }),
      ...body,
    }));
}

// ---------------------------------------------------------------------------------------------
// the routes whose inputs the document does not describe, and those fuzzed less (or not at all)

const textContentType = (types: string[]) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...types) },
    fc.constantFrom(undefined, 'application/json', 'a/b', ''),
  );

/** A body compressed now and then: mostly labelled as it is, sometimes cut short or labelled wrong. */
const compression = sometimes(
  fc
    .record({
      as: fc.constantFrom('gzip', 'deflate', 'br'),
      header: sometimes(
        fc.oneof(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', 'gzip, br', 'x-gzip'), anyString),
        4,
      ),
      cut: sometimes(fc.nat(), 4),
    })
    .map(({ as, header, cut }) => ({ as, header: header ?? as, ...(cut === null ? {} : { cut }) })),
  4,
);

const ndjsonBody: fc.Arbitrary<BodyPart> = fc
  .record({
    body: fc.oneof(
      { weight: 4, arbitrary: lines(NDJSON_SAMPLES) },
      // one JSON array of the sample objects, perhaps mutated
      fc
        .tuple(fc.array(fc.constantFrom(...NDJSON_SAMPLES), { maxLength: 6 }), fc.array(jsonMutation, { maxLength: 2 }))
        .map(
          ([ls, ms]) =>
            JSON.stringify(
              mutateJson(
                ls.map((l) => JSON.parse(l)),
                ms,
              ),
            ) ?? '',
        ),
      oddJsonText,
    ),
    contentType: textContentType([
      'application/x-ndjson',
      'application/json',
      'text/plain',
      'application/stream+json',
      'application/x-ndjson; charset=utf-8',
    ]),
    compress: compression,
  })
  .map(({ compress, ...rest }) => (compress === null ? rest : { ...rest, compress }));

const lineProtocolBody: fc.Arbitrary<BodyPart> = fc
  .record({
    body: lines(LP_SAMPLES),
    contentType: textContentType(['text/plain', 'text/plain; charset=utf-8']),
    compress: compression,
  })
  .map(({ compress, ...rest }) => (compress === null ? rest : { ...rest, compress }));
const lineProtocolQuery = { precision: fc.constantFrom(...KNOWN.precision), db: fc.constantFrom('telegraf') };

/** A sensor-log body: a line (or several) as text, or as a JSON string, or a parsed event as JSON. */
const sensorLogBody: fc.Arbitrary<BodyPart> = fc.oneof(
  fc.record({ body: lines(SENSORLOG_SAMPLES, 4), contentType: textContentType(['text/plain']) }),
  fc.record({
    body: sampleOr(SENSORLOG_SAMPLES).map((l) => JSON.stringify(l)),
    contentType: fc.constant('application/json'),
  }),
  jsonBody(
    fc.constantFrom(
      { Device: { ID: 1, Fw: 16071801, Evt: 2 }, 'UTC Time': '2016-10-4 16:47:50', hz: 49.87 },
      { Device: { ID: 1, Fw: 16071801, Evt: 1 }, Power: { Active: 1753, Reactive: 279 }, Peaks: [7.3, 7.5] },
    ),
  ),
);

/** Emoncms inputs: the recorded device payloads' numbers by name, and their own nesting. */
const emoncmsFulljson = fc.oneof(
  fc.constantFrom(...DEVICE_INPUTS, ...DEVICE_PAYLOADS).map((v) => JSON.stringify(v)),
  mutated(DEVICE_INPUTS.map((v) => JSON.stringify(v))),
  fc
    .constantFrom(...DEVICE_INPUTS)
    .chain((v) =>
      fc.array(jsonMutation, { minLength: 1, maxLength: 2 }).map((ms) => JSON.stringify(mutateJson(v, ms)) ?? ''),
    ),
);
const emoncmsQuery = {
  node: fc.constantFrom(...KNOWN.node),
  fulljson: emoncmsFulljson,
  json: fc.constantFrom('{power1:100,power2:-20.5,7}', '{P1:100,E1:5}', 'P1:1'),
  csv: fc.constantFrom('100,200,300', '1', '-1.5e3,,7'),
  data: fc.constantFrom(
    ...['[[0,5,1,2,3]]', '[[-6,16,1137],[-3,17,1437,3164],[0,19,1412,3077]]', '[[0,"emontx",{"P1":5}]]'],
  ),
  time: fc.constantFrom('1717200000', '1717200000.5', '-1', '99999999999999'),
  sentat: fc.constantFrom('1717200000', '1717200100'),
  offset: fc.constantFrom('-10', '0', '3600'),
  cb: fc.constantFrom('1', '0'),
  apikey: fc.constantFrom('wrong', ''),
};
/** A form body of the same parameters, or a zlib-compressed `data` (cb=1, as emonhub sends it). */
const emoncmsBody: fc.Arbitrary<BodyPart> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  fc
    .dictionary(fc.constantFrom(...Object.keys(emoncmsQuery)), fc.oneof(fc.constantFrom('1', '[[0,5,1]]'), anyString), {
      maxKeys: 4,
    })
    .map((form) => ({
      body: new URLSearchParams(form).toString(),
      contentType: 'application/x-www-form-urlencoded',
    })),
  fc.tuple(sampleOr(['[[0,5,1,2,3]]', '[[0,"emontx",{"P1":5}]]']), sometimes(fc.nat(), 3)).map(([data, cut]) => ({
    body: data,
    compress: cut === null ? { as: 'zlib' as const } : { as: 'zlib' as const, cut },
  })),
  jsonBody(fc.record({ node: fc.constant('emontx'), fulljson: emoncmsFulljson }, { requiredKeys: [] })),
);

/** Device bodies whose URLs never leave this machine: the poller would call them (port 9: nothing listens). */
const SAFE_URLS = ['http://127.0.0.1:9', 'http://127.0.0.1:9/status', 'https://localhost:9', 'http://[::1]:9/x'];
function keptLocal(v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v) && 'url' in v) {
    const url = (v as { url: unknown }).url;
    if (typeof url === 'string' && /^https?:/i.test(url.trim()) && !SAFE_URLS.includes(url))
      return { ...v, url: SAFE_URLS[url.length % SAFE_URLS.length] };
  }
  return v;
}
const deviceSchema: Schema = {
  type: 'object',
  required: ['id', 'kind', 'url'],
  properties: {
    // three names: each a polled device, no more
    id: { enum: ['dev1', 'dev2', 'meter-3'] },
    kind: { enum: ['http-json', 'tasmota', 'shelly-gen1', 'shelly-gen2', 'nope'] },
    url: { enum: SAFE_URLS },
    interval_s: { type: 'integer', minimum: 1, maximum: 86_400 },
    username: { type: 'string', maxLength: 200 },
    password: { type: 'string', maxLength: 200 },
    timezone: { type: 'string' },
  },
};
const deviceBody: fc.Arbitrary<BodyPart> = fc
  .tuple(conforming(deviceSchema), fc.array(jsonMutation, { maxLength: 2 }), jsonContentType)
  .map(([v, ms, contentType]) => {
    const value = keptLocal(mutateJson(v, ms));
    // a mutated id of the three stays out of the registry's way: with a space it is never valid
    if (
      value &&
      typeof value === 'object' &&
      'id' in value &&
      typeof value.id === 'string' &&
      !['dev1', 'dev2', 'meter-3'].includes(value.id)
    )
      (value as { id: string }).id = ` ${value.id}`;
    return { body: JSON.stringify(value) ?? '', contentType };
  });

const readingItem: Schema = {
  type: 'object',
  properties: { value: { type: 'number' }, timestamp: { type: 'string' } },
  required: ['value'],
};

/** A file dropped in the watched folder (the name unique to the run: the ledger takes each name once). */
let dropped = 0;
const droppedFile = fc
  .tuple(
    fc.constantFrom('.csv', '.sgl_v2', '.txt'),
    fc.oneof(mutated(FILE_SAMPLES, 6), fc.constantFrom(...FILE_SAMPLES), anyString),
  )
  .map(([ext, text]) => ({ name: `fuzz-${process.pid}-${Date.now()}-${dropped++}${ext}`, text }));

/**
 * A body of `schema` whose days `from`…`to` span a few at most. These routes work through the days
 * one after another, some 40–70 ms each even when the store holds nothing for them: the most they
 * take (366 days) answers after 15–22 s. Bounded and linear, a batch by design; so fuzzed with short
 * ranges (a mutation still sends any other `to`), and given 30 s.
 */
function shortRange(schema: Schema, from: string, to: string): fc.Arbitrary<BodyPart> {
  const range = fc
    .tuple(
      fc.date({ min: new Date('2016-01-01T00:00:00Z'), max: new Date('2026-12-31T00:00:00Z'), noInvalidDate: true }),
      fc.integer({ min: 0, max: 2 }),
      fc.boolean(),
    )
    .map(([d, span, withTo]) => {
      const day = d.toISOString().slice(0, 10);
      const last = new Date(d.getTime() + span * 86_400_000).toISOString().slice(0, 10);
      return withTo ? { [from]: day, [to]: last } : { [from]: day };
    });
  return jsonBody(fc.tuple(conforming(schema), range).map(([v, r]) => ({ ...(v as object), ...r })));
}
const DAYS_TIMEOUT_MS = 30_000;

const OVERRIDES: Record<string, Override> = {
  'GET /api/v1/query': { always: ['series', 'start', 'end'] },
  'GET /api/v1/energy': { always: ['series', 'start', 'end'] },
  'GET /api/v1/energy/cost': { always: ['energy', 'tariff', 'start', 'end'] },
  'GET /api/v1/energy/carbon': { always: ['energy', 'intensity', 'start', 'end'] },
  'GET /api/v1/analytics/energy': { always: ['start', 'end'] },
  // a copy of the whole database each time: fine, but slow by design, a few runs only
  'GET /api/v1/backup': { runs: 2 },
  // the bundled dashboard: static, large
  'GET /dashboard/app.js': { runs: 3 },
  // a plain GET is answered 426; the WebSocket protocol itself (an upgrade) is not fuzzed here
  'GET /api/v1/ws': { runs: 4, query: { key: fc.constantFrom('wrong') } },
  // ids that exist (the generated key: 409, never revoked) and that do not; the admin key is checked after
  'DELETE /api/v1/keys/{id}': { path: { id: fc.constantFrom('generated', 'k_000000000000', 'nope') } },
  'PUT /api/v1/retention': {
    schema: {
      type: 'object',
      required: ['rules'],
      properties: {
        rules: {
          type: 'array',
          maxItems: 1000,
          items: {
            type: 'object',
            required: ['pattern', 'keep_raw_days'],
            properties: {
              pattern: { type: 'string', minLength: 1, maxLength: 200 },
              keep_raw_days: { type: 'integer', minimum: 1, maximum: 36_500 },
            },
          },
        },
      },
    },
  },
  'POST /ingest': { body: ndjsonBody, runs: 30 },
  'POST /write': { body: lineProtocolBody, query: lineProtocolQuery, runs: 30 },
  'POST /api/v2/write': {
    body: lineProtocolBody,
    query: { ...lineProtocolQuery, bucket: fc.constantFrom('b') },
    runs: 30,
  },
  'GET /query': {
    query: { q: fc.constantFrom('CREATE DATABASE telegraf', 'SHOW DATABASES', 'SELECT * FROM cpu') },
  },
  'POST /query': {
    query: { q: fc.constantFrom('CREATE DATABASE telegraf', 'SHOW DATABASES', 'SELECT * FROM cpu') },
    body: fc.oneof(
      fc.constant({}),
      sampleOr(['CREATE DATABASE telegraf', 'SHOW DATABASES']).map((q) => ({
        body: new URLSearchParams({ q }).toString(),
        contentType: 'application/x-www-form-urlencoded',
      })),
    ),
  },
  'POST /log/parse': { body: sensorLogBody, runs: 30 },
  'POST /log/store': { body: sensorLogBody, runs: 30 },
  'GET /api/v1/sensorlog/events': {
    query: {
      cluster: fc.constantFrom(...KNOWN.cluster),
      from: fc.constantFrom(...KNOWN.time),
      to: fc.constantFrom(...KNOWN.time),
    },
  },
  'GET /api/v1/daily': {
    query: { from: fc.constantFrom(...KNOWN.date), to: fc.constantFrom(...KNOWN.date) },
    always: ['from'],
  },
  'POST /api/v1/dumps': { body: (s) => shortRange(s, 'date', 'to'), timeoutMs: DAYS_TIMEOUT_MS, runs: 6 },
  'POST /api/v1/daily/process': { body: (s) => shortRange(s, 'from', 'to'), timeoutMs: DAYS_TIMEOUT_MS, runs: 6 },
  'POST /api/v1/sensors/{id}/data': {
    body: jsonBody(fc.oneof(conforming(readingItem), fc.array(conforming(readingItem), { maxLength: 5 }))),
  },
  'GET /api/v1/devices/{*}': { path: { '*': fc.constantFrom('devices/dev1', 'devices/dev2', 'dev1', 'a/b') } },
  'DELETE /api/v1/devices/{*}': { path: { '*': fc.constantFrom('devices/dev1', 'devices/dev2', 'dev1', 'a/b') } },
  'POST /api/v1/devices': { body: deviceBody },
  'POST /api/v1/ingestion/trigger': {
    body: fc
      .tuple(jsonBody(conforming({ type: 'object', properties: { location: { type: 'string' } } })), droppedFile)
      .map(([b, file]) => ({ ...b, file })),
  },
  'GET /api/v1/ingestion/files': {
    query: {
      status: fc.constantFrom(...KNOWN.status),
      location: fc.constantFrom(...KNOWN.location),
      limit: fc.constantFrom(...KNOWN.limit),
      offset: fc.constantFrom(...KNOWN.offset),
    },
  },
};
for (const route of ['/input/post', '/input/post.json', '/input/post/{node}', '/input/bulk', '/input/bulk.json'])
  for (const method of ['GET', 'POST'])
    OVERRIDES[`${method} ${route}`] = { query: emoncmsQuery, body: method === 'POST' ? emoncmsBody : fc.constant({}) };

// ---------------------------------------------------------------------------------------------
// the app: one for every operation, with a room, sensors, readings, an event, a device, a watched folder

async function start(t: TestContext) {
  const drops = tempDir('wattline-fuzz-drops-');
  t.after(() => fs.rmSync(drops, { recursive: true, force: true }));
  const w = await build(t, {
    'files.locations': [{ url: `file://${drops}`, name: 'drops', interval_s: 86_400, skip_initial_scan: true }],
    'files.settleMs': 0,
  });
  await sendJson(w, 'POST', '/api/v1/rooms', { name: 'Kitchen', floor: 1, area_m2: 12.5 });
  await sendJson(w, 'POST', '/api/v1/sensors', {
    sensor_id: 's1',
    name: 'Plug',
    sensor_type: 'power',
    room: 'Kitchen',
  });
  await sendJson(w, 'POST', '/api/v1/sensors', { sensor_id: 'e1', name: 'Meter', sensor_type: 'energy' });
  await sendJson(w, 'PUT', '/api/v1/series/a/b', { unit: 'kWh', kind: 'counter' });
  const now = Date.now();
  // times of the readings below, beside the fixed ones: queries that find something
  KNOWN.time.push(new Date(now - 86_400_000).toISOString(), new Date(now).toISOString(), String(now - 3_600_000));
  KNOWN.date.push(new Date(now).toISOString().slice(0, 10));
  const readings = Array.from({ length: 48 }, (_, i) => [
    { series: 'sensors/s1', value: 100 + i, ts: now - i * 600_000 },
    { series: 'sensors/e1', value: 1000 - i, ts: now - i * 600_000 },
    { series: 'a/b', value: 48 - i, ts: now - i * 600_000 },
  ]).flat();
  assert.equal((await w.ingest(readings)).status, 200);
  await sendJson(w, 'POST', '/api/v1/devices', {
    id: 'dev1',
    kind: 'http-json',
    url: SAFE_URLS[0],
    interval_s: 86_400,
  });
  const event = await sendJson(w, 'POST', '/api/v1/demand-response/invitation/send', {
    event_time: new Date(now + 86_400_000).toISOString(),
    load_kwh: 2,
    load_percentage: 20,
    iots: ['s1'],
  });
  KNOWN.id.push(event.event_id);
  KNOWN.event_id = [event.event_id, 'nope'];
  await sendJson(w, 'POST', '/api/v1/keys', { scope: 'read', name: 'fuzz' });
  const keys = await w.request('/api/v1/keys');
  KNOWN.id.push(...keys.body.keys.map((k: { id: string }) => k.id));
  fs.writeFileSync(path.join(drops, 'first.sgl_v2'), FILE_SAMPLES[0]);
  await sendJson(w, 'POST', '/api/v1/ingestion/trigger', {});
  return { w, drops };
}

// ---------------------------------------------------------------------------------------------
// time: linear in the input (harness.ts assertLinearTime)

/** Each case: a request made of `n` pathological pieces (of at most `max` n: a route's own limit). */
type TimeCase = [string, (n: number) => Req, { n?: number }?];
const post = (p: string, body: string, contentType = 'application/json'): Req => ({
  method: 'POST',
  path: p,
  query: [],
  auth: 'Bearer $KEY',
  contentType,
  body,
});
const TIME_CASES: TimeCase[] = [
  ['POST /log/parse: one long list', (n) => post('/log/parse', `Peaks: ${'1.5;'.repeat(n)}`, 'text/plain'), { n: 250 }],
  [
    'POST /log/store: many lines',
    (n) => post('/log/store', `${SENSORLOG_SAMPLES[0]}\n`.repeat(n), 'text/plain'),
    { n: 256 },
  ],
  [
    'POST /write: many fields',
    (n) => post('/write', `m ${Array.from({ length: n }, (_, i) => `f${i}=1`).join(',')}\n`, 'text/plain'),
    { n: 1_024 },
  ],
  [
    'POST /ingest: a JSON array of many items',
    (n) => post('/ingest', `[${`${NDJSON_SAMPLES.at(-1)},`.repeat(n)}1]`),
    { n: 2_048 },
  ],
  [
    'POST /input/post: many csv values',
    (n) =>
      post(
        '/input/post',
        `node=big&csv=${Array.from({ length: n }, (_, i) => i).join(',')}`,
        'application/x-www-form-urlencoded',
      ),
    { n: 1_024 },
  ],
  [
    'POST /input/bulk: many frames',
    (n) =>
      post(
        '/input/bulk',
        `data=${encodeURIComponent(JSON.stringify(Array.from({ length: n }, (_, i) => [i - n, 7, i, 2 * i])))}`,
        'application/x-www-form-urlencoded',
      ),
    { n: 1_024 },
  ],
  [
    'POST /api/v1/data/query: many sensor ids',
    (n) => post('/api/v1/data/query', JSON.stringify({ sensor_ids: Array.from({ length: n }, (_, i) => `s${i}`) })),
    { n: 250 },
  ],
  [
    'PUT /api/v1/retention: many rules',
    (n) => ({
      ...post(
        '/api/v1/retention',
        JSON.stringify({ rules: Array.from({ length: n }, (_, i) => ({ pattern: `x${i}/*`, keep_raw_days: 36_500 })) }),
      ),
      method: 'PUT',
    }),
    { n: 250 },
  ],
  [
    'POST /api/v1/sensors/{id}/data: many readings',
    (n) =>
      post(
        '/api/v1/sensors/s1/data',
        JSON.stringify(
          Array.from({ length: n }, (_, i) => ({ value: i, timestamp: new Date(1.7e12 + i * 1000).toISOString() })),
        ),
      ),
    { n: 1_024 },
  ],
];

// ---------------------------------------------------------------------------------------------
// the run

test('routes: every operation of /openapi.json answers generated and mutated requests without a 5xx, in time, naming each 4xx', async (t) => {
  const { w, drops } = await start(t);
  const doc = await w.request('/openapi.json');
  assert.equal(doc.status, 200);
  const operations = new Map<string, { method: string; pathname: string; op: Operation }>();
  for (const [pathname, ops] of Object.entries(doc.body.paths as Record<string, Record<string, Operation>>))
    for (const [method, op] of Object.entries(ops))
      operations.set(`${method.toUpperCase()} ${pathname}`, { method: method.toUpperCase(), pathname, op });
  for (const name of Object.keys(OVERRIDES))
    assert.ok(operations.has(name), `OVERRIDES names ${name}, which /openapi.json does not list`);

  const statuses = new Map<string, Map<string, number>>();
  // a campaign keeps the request in flight as a regression case: a request that crashes the process
  // (no counterexample is written then) stays behind, and `npm test` replays it; removed at the end
  const inFlight = path.join(REGRESSIONS.dir, `crashed-the-process-${process.pid}.json`);
  if (FUZZ.writeRegressions) {
    fs.mkdirSync(REGRESSIONS.dir, { recursive: true });
    t.after(() => fs.rmSync(inFlight, { force: true }));
  }
  const check = async (name: string, req: Req, timeoutMs = OVERRIDES[name]?.timeoutMs) => {
    if (FUZZ.writeRegressions) {
      const error = 'the process died while this request was in flight (crashed, or was killed: see the run)';
      fs.writeFileSync(inFlight, `${JSON.stringify({ property: name, error, input: req }, null, 2)}\n`);
    }
    const answer = await exchange(w, req, drops, timeoutMs);
    if (STATS) {
      const counts = statuses.get(name) ?? statuses.set(name, new Map()).get(name)!;
      let code = '';
      try {
        code = answer.status >= 400 ? String(JSON.parse(answer.text).code ?? '') : '';
      } catch {}
      const key = `${answer.status}${code ? ` ${code}` : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    checkAnswer(name, req, answer);
  };
  const fuzzed = [...operations].filter(([name]) => !OVERRIDES[name]?.skip);

  for (const [name, { method, pathname, op }] of operations) {
    const o = OVERRIDES[name] ?? {};
    await t.test(`fuzz: ${name}`, { skip: o.skip }, async () => {
      const timeoutMs = o.timeoutMs ?? REQUEST_TIMEOUT_MS;
      await REGRESSIONS.check(name, requests(method, pathname, op, o), (req) => check(name, req, timeoutMs), {
        runs: o.runs ?? RUNS,
        properties: fuzzed.length,
        // the property's own timeout is the request's, with room for the exchange around it
        timeoutMs: timeoutMs + 2_000,
      });
    });
  }

  for (const [name, counts] of statuses)
    t.diagnostic(
      `${name}: ${[...counts]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([s, n]) => `${s}×${n}`)
        .join(' ')}`,
    );

  await t.test('the admin key still works after the fuzzing (no route revoked or broke it)', async () => {
    const keys = await w.request('/api/v1/keys');
    assert.equal(keys.status, 200, JSON.stringify(keys.body));
    assert.equal((await w.request('/ready')).status, 200);
  });

  // Timings do not belong in `npm test` (a loaded CI machine makes them flaky): see harness.ts
  for (const [name, make, { n = 256 } = {}] of TIME_CASES) {
    await t.test(`time is linear in the input: ${name}`, { skip: TIMING_SKIP }, async () => {
      const run = (req: Req) => async () => {
        const a = await exchange(w, req, drops);
        assert.ok(a.status < 500, `${a.status} ${a.text.slice(0, 200)}`);
      };
      const requests = { small: make(n), large: make(4 * n) };
      await assertLinearTime((size) => run(requests[size])());
    });
  }

  // regressions: counterexamples written by `npm run fuzz`, replayed as they are
  for (const [file, record] of REGRESSIONS.records<Req>((f) => f === path.basename(inFlight))) {
    await t.test(`regression ${file}`, { todo: record.todo }, async () => {
      assert.ok(operations.has(record.property), `no operation "${record.property}" in /openapi.json`);
      await check(record.property, record.input);
    });
  }
});
