import fs from 'node:fs';
import os from 'node:os';
import { IANAZone } from 'luxon';
import YAML from 'yaml';
import { z } from 'zod';
import { SERIES_KEY_PATTERN } from './readings.js';

/**
 * Every setting Wattline reads, with its default and what happens at its limit.
 * A YAML path maps to an environment variable: `ingest.batchSize` ↔ `WATTLINE_INGEST_BATCH_SIZE`;
 * core settings have no area (`httpPort` ↔ `WATTLINE_HTTP_PORT`). The environment wins over YAML.
 * The README's settings table is generated from this schema (`npm run docs:settings`), and a test
 * catches drift.
 */

const truthy = new Set(['1', 'true', 'yes', 'on']);
const falsy = new Set(['0', 'false', 'no', 'off', '']);
const flag = (defaultValue: boolean, doc: string) =>
  z
    .preprocess(
      (v) => {
        if (typeof v !== 'string') return v;
        const s = v.trim().toLowerCase();
        return truthy.has(s) ? true : falsy.has(s) ? false : v;
      },
      z.boolean({ error: 'expected one of 1, 0, true, false, yes, no, on, off' }),
    )
    .default(defaultValue)
    .describe(doc);

const int = (defaultValue: number, min: number, max: number, doc: string) =>
  z.coerce
    .number({ error: `expected a whole number from ${min} to ${max}` })
    .int({ error: `expected a whole number from ${min} to ${max}` })
    .min(min, { error: `expected a whole number from ${min} to ${max}` })
    .max(max, { error: `expected a whole number from ${min} to ${max}` })
    .default(defaultValue)
    .describe(doc);

export const apiKeyScopes = ['read', 'write', 'admin'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];
export interface ConfiguredKey {
  key: string;
  scope: ApiKeyScope;
}

const apiKeyList = z
  .string()
  .default('')
  .transform((text, ctx): ConfiguredKey[] => {
    const keys: ConfiguredKey[] = [];
    for (const item of text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const [key, scope = 'write', extra] = item.split(':');
      if (extra !== undefined || !/^[A-Za-z0-9_.-]{8,200}$/.test(key)) {
        ctx.addIssue({
          code: 'custom',
          message: `each key must be 8–200 characters of A-Z a-z 0-9 _ . - (entry ${keys.length + 1})`,
        });
        return z.NEVER;
      }
      if (!(apiKeyScopes as readonly string[]).includes(scope)) {
        ctx.addIssue({ code: 'custom', message: `scope must be one of read, write, admin (got "${scope}")` });
        return z.NEVER;
      }
      keys.push({ key, scope: scope as ApiKeyScope });
    }
    return keys;
  })
  .describe(
    'Comma-separated API keys, each `key` or `key:scope`; scope is `write` (default, implies read), `read` or `admin`. ' +
      'Empty: the first start creates an admin key, keeps it in `<data dir>/api-key` and prints it.',
  );

export const configSchema = z.object({
  host: z.string().min(1).default('127.0.0.1').describe('Address the HTTP server binds to.'),
  httpPort: int(8080, 0, 65535, 'HTTP port (0 picks a free port, printed at start).'),
  dataDir: z
    .string()
    .min(1)
    .default('./data')
    .describe('Directory for the embedded store, the generated API key and other state.'),
  apiKeys: apiKeyList,
  grpcPort: int(50051, 0, 65535, 'gRPC port (edgecom `TimeSeriesService` and `wattline.v1`; 0 picks a free port).'),
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { error: 'expected postgres://user@host:port/database' })
    .optional()
    .describe('PostgreSQL URL for the server store; unset: the embedded DuckDB store in the data directory.'),
  busUrl: z
    .string()
    .regex(/^nats:\/\//, { error: 'expected nats://host:port' })
    .optional()
    .describe('NATS URL for the JetStream bus; unset: the in-process bus.'),
  requireReadKey: flag(false, 'Require a key (any scope) for reads too; by default queries are open.'),
  logLevel: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info')
    .describe('Log level of the JSON logs on stdout.'),
  ingest: z
    .object({
      batchSize: int(
        10000,
        1,
        1_000_000,
        'Rows an ingest request hands to the persistor at a time; a request streams its body in batches of this size.',
      ),
      queueLimit: int(
        2_000_000,
        1000,
        100_000_000,
        'Rows waiting to be committed before further batches are refused and ingest answers 503 with `Retry-After` (in-process bus; on NATS `bus.maxBytes` and `bus.maxMessages` limit the stream instead).',
      ),
      maxLineBytes: int(
        65536,
        64,
        16 * 1024 * 1024,
        'Longest accepted NDJSON line; longer lines are rejected by line number and counted in `ingest_rows_invalid_total`.',
      ),
      parseWorkers: int(
        Math.min(2, os.availableParallelism()),
        0,
        64,
        'Worker threads that parse NDJSON bodies beside the main thread (default: 2, or 1 on a one-core machine; 0 parses on the main thread).',
      ),
      maxInvalidReported: int(
        1000,
        1,
        1_000_000,
        'Invalid lines listed in a 400 reply; further bad lines are still counted in `invalidCount`.',
      ),
    })
    .prefault({}),
  persist: z
    .object({
      maxBatchRows: int(
        200_000,
        1,
        10_000_000,
        'Most rows committed in one store transaction; queued batches are grouped up to this size.',
      ),
      lingerMs: int(
        0,
        0,
        10_000,
        'How long the persistor waits for more rows before committing a small batch (0: commit at once; batches still group while a commit runs).',
      ),
      catalogSaveMs: int(
        1000,
        0,
        3_600_000,
        'How often series stats (count, first/last time, last value) are written to the store; answers always come from memory, and start-up folds in anything written since.',
      ),
    })
    .prefault({}),
  compaction: z
    .object({
      intervalMs: int(5000, 50, 3_600_000, 'How often the compactor looks for partitions to sort and dedupe.'),
      quietMs: int(
        10_000,
        0,
        86_400_000,
        'A partition with only in-order appends is sorted once it has had no writes for this long.',
      ),
    })
    .prefault({}),
  store: z
    .object({
      poolSize: int(10, 1, 1000, 'PostgreSQL connections per process; queries beyond it wait for a free one.'),
      schema: z
        .string()
        .regex(/^[a-z_][a-z0-9_]*$/, { error: 'expected a lower-case SQL name' })
        .default('public')
        .describe(
          "PostgreSQL schema for Wattline's tables (created if missing), so several installations can share a database.",
        ),
    })
    .prefault({}),
  bus: z
    .object({
      stream: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, { error: 'expected letters, digits, _ and -' })
        .default('WATTLINE')
        .describe('JetStream stream name prefix; each topic gets the stream `<prefix>_<TOPIC>`.'),
      maxAgeS: int(7 * 86_400, 0, 365 * 86_400, 'Longest a message stays in a stream unconsumed (0: no limit).'),
      replicas: int(1, 1, 5, 'JetStream stream replicas (3 or 5 on a NATS cluster).'),
      maxDeliver: int(
        5,
        1,
        1000,
        'Deliveries of a message before it goes to the dead-letter stream with its reason logged.',
      ),
      ackWaitMs: int(30_000, 1000, 3_600_000, 'How long a consumer may take over a message before it is redelivered.'),
      maxBytes: int(
        1024 ** 3,
        1024 ** 2,
        1024 ** 4,
        "Most bytes a topic's stream holds unconsumed; beyond it publishes are refused, ingest answers 503 with `Retry-After` and `bus_publish_refused_total` counts them (stored messages are never dropped to make room). At least the NATS `max_payload`, so one message fits.",
      ),
      maxMessages: int(
        1_000_000,
        1,
        1_000_000_000,
        "Most messages (ingest: batches of up to `ingest.batchSize` rows) a topic's stream holds unconsumed; beyond it publishes are refused as with `bus.maxBytes`.",
      ),
    })
    .prefault({}),
  timezone: z
    .string()
    .refine((zone) => IANAZone.isValidZone(zone), { error: 'expected an IANA time zone such as Europe/London' })
    .default('Europe/London')
    .describe(
      'Time zone of calendar days: the daily energy report covers local days (46 or 50 half-hours at clock changes).',
    ),
  sensorlog: z
    .object({
      open: flag(
        false,
        'Let `/log/store` take events without a key, as the original energy-sensors clients send none.',
      ),
      clusterEvery: int(
        1000,
        1,
        100_000_000,
        'Stored sensor events between two clustering runs (MeanShift over every event, in a worker thread).',
      ),
    })
    .prefault({}),
  octopus: z
    .object({
      url: z
        .url({ error: 'expected http(s)://…' })
        .default('https://api.octopus.energy')
        .describe('Octopus Energy API base URL.'),
      apiKey: z
        .string()
        .optional()
        .describe(
          'Octopus API key (sent as the basic-auth user) for meter consumption; unset: the consumption connector is off.',
        ),
      product: z
        .string()
        .optional()
        .describe('Octopus product code, e.g. AGILE-FLEX-22-11-25; with the tariff, turns the tariff connector on.'),
      tariff: z.string().optional().describe('Octopus tariff code, e.g. E-1R-AGILE-FLEX-22-11-25-C.'),
      mpan: z.string().optional().describe('Electricity meter point (MPAN) for consumption.'),
      serial: z.string().optional().describe('Electricity meter serial number for consumption.'),
      bootstrapDays: int(30, 0, 3650, 'Days of tariff and consumption history fetched on first start.'),
      pollMs: int(1_800_000, 1000, 86_400_000, 'How often the Octopus connectors fetch recent data.'),
    })
    .prefault({}),
  rateLimit: z
    .object({
      grpcPerSecond: int(
        5,
        0,
        1_000_000,
        'gRPC requests per second per client (edgecom default; 0: no limit); over it: RESOURCE_EXHAUSTED `rate limit exceeded`.',
      ),
      grpcBurst: int(10, 1, 1_000_000, 'gRPC requests a client may send at once before the per-second rate applies.'),
      httpPerSecond: int(
        0,
        0,
        1_000_000,
        'HTTP API requests per second per client (0: no limit; ingest clients send many); over it: 429.',
      ),
      httpBurst: int(100, 1, 1_000_000, 'HTTP requests a client may send at once before the per-second rate applies.'),
    })
    .prefault({}),
  edgecom: z
    .object({
      series: z
        .string()
        .regex(SERIES_KEY_PATTERN, { error: 'expected a series key: letters, digits and _ . : / -, at most 200' })
        .default('edgecom')
        .describe(
          'Series the edgecom gRPC `QueryTimeSeries` answers for; a call may name another in its `x-wattline-series` metadata.',
        ),
      url: z
        .url({ error: 'expected the full URL of the EdgeCom series, http(s)://…' })
        .optional()
        .describe('EdgeCom Energy API series URL (`GET <url>?start=…&end=…`); unset: the EdgeCom connector is off.'),
      bootstrapDays: int(730, 0, 3650, 'Days of EdgeCom history fetched on first start.'),
      pollMs: int(300_000, 1000, 86_400_000, 'How often the EdgeCom connector fetches the latest readings.'),
    })
    .prefault({}),
  sources: z
    .object({
      timeoutMs: int(30_000, 100, 600_000, 'Upstream request timeout; a timed-out request is retried.'),
      retries: int(
        5,
        0,
        100,
        'Retries of a failed upstream request (timeouts, 5xx, 429) with exponential backoff and jitter; then the chunk fails and is tried again next time.',
      ),
      retryBaseMs: int(
        1000,
        1,
        600_000,
        'First retry delay; each retry doubles it (a 429 waits at least its Retry-After).',
      ),
      minIntervalMs: int(200, 0, 600_000, 'Least time between two requests to the same upstream (its rate limit).'),
    })
    .prefault({}),
  carbonUrl: z
    .string()
    .refine((s) => s === '' || (/^https?:\/\//.test(s) && URL.canParse(s)), {
      error: 'expected the Carbon Intensity API base URL, http(s)://…, or empty to turn the carbon connectors off',
    })
    .default('https://api.carbonintensity.org.uk')
    .describe(
      'Base URL of the GB Carbon Intensity API (`/intensity/{from}/{to}`, `/generation/{from}/{to}`), read by the `carbon-intensity` and `generation-mix` connectors; empty: both are off.',
    ),
  carbon: z
    .object({
      bootstrapDays: int(
        30,
        0,
        3650,
        'Days of carbon intensity and generation mix history fetched on first start (0: none; `wattline bootstrap` fetches any range).',
      ),
      pollMs: int(
        30 * 60_000,
        60_000,
        86_400_000,
        'How often the carbon intensity and generation mix connectors fetch the last 24 hours again (new half-hours, and actuals that were still null).',
      ),
    })
    .prefault({}),
  dumps: z
    .object({
      url: z
        .string()
        .refine(
          (s) => s === '' || /^file:\/\/\//.test(s) || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(s),
          {
            error: 'expected file:///absolute/dir or s3://bucket/prefix',
          },
        )
        .default('')
        .describe(
          'Blob store for daily dumps: `file:///dir` or `s3://bucket/prefix` (any S3-compatible store, see `s3.*`); empty: `file://<data dir>/dumps`.',
        ),
      daily: flag(
        true,
        'Dump each finished day on a schedule (role `jobs`): every day since the last dump, up to yesterday, at `dumps.hour`.',
      ),
      hour: int(1, 0, 23, 'Hour of the day (in `dumps.timezone`) at which yesterday is dumped.'),
      timezone: z
        .string()
        .refine((zone) => zone === '' || IANAZone.isValidZone(zone), {
          error: 'expected an IANA time zone such as Europe/London',
        })
        .default('')
        .describe('Time zone whose calendar days the dumps cover; empty: the `timezone` setting.'),
      format: z
        .enum(['ndjson', 'csv', 'parquet'], { error: 'expected one of ndjson, csv, parquet' })
        .default('ndjson')
        .describe(
          'Format of the daily dumps: gzipped NDJSON `YYYY-MM-DD.json.gz` (as cloud-lada wrote), gzipped CSV `YYYY-MM-DD.csv.gz`, or Parquet `YYYY-MM-DD.parquet`.',
        ),
      series: z
        .string()
        .regex(/^[A-Za-z0-9_.:/*,\s-]*$/, {
          error: 'expected comma-separated series patterns: letters, digits, _ . : / - and *',
        })
        .default('')
        .describe(
          'Comma-separated series patterns the daily dumps keep (`*` matches any run of characters, e.g. `speed,location_*`); empty: every series.',
        ),
      catchUpDays: int(
        31,
        0,
        3650,
        'Most missed days the daily job dumps after a stop (oldest first); older ones need `wattline dump`.',
      ),
    })
    .prefault({}),
  s3: z
    .object({
      endpoint: z
        .union([z.literal(''), z.url({ error: 'expected http(s)://host:port' })])
        .default('')
        .describe('S3-compatible endpoint (MinIO, Ceph, R2, …); empty: AWS S3 in `s3.region`.'),
      region: z.string().default('us-east-1').describe('S3 region.'),
      accessKeyId: z
        .string()
        .default('')
        .describe(
          "S3 access key id; empty: the AWS SDK's default chain (`AWS_ACCESS_KEY_ID`, shared config, instance role).",
        ),
      secretAccessKey: z.string().default('').describe('S3 secret access key (with `s3.accessKeyId`).'),
      forcePathStyle: flag(
        true,
        'Address buckets as `endpoint/bucket` rather than `bucket.endpoint` (what most S3-compatible servers expect).',
      ),
    })
    .prefault({}),
  query: z
    .object({
      cacheSize: int(1000, 0, 1_000_000, 'Query answers kept in the LRU cache (0 turns caching off).'),
      cacheTtlMs: int(
        60_000,
        0,
        86_400_000,
        'Cached answers older than this are recomputed (0: no limit) — the bound on staleness should a commit notice from another process be lost.',
      ),
      maxPoints: int(
        1_000_000,
        1,
        100_000_000,
        'Most points one query may return (raw points or buckets, filled ones included); larger answers get 400.',
      ),
    })
    .prefault({}),
});

export type Config = Readonly<z.output<typeof configSchema>>;

/** Environment variable for a setting path: `ingest.batchSize` → `WATTLINE_INGEST_BATCH_SIZE`. */
export function envName(path: string[]): string {
  return (
    ENV_NAMES[path.join('.')] ??
    'WATTLINE_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')
  );
}

// the conventional names other tools use for these
const ENV_NAMES: Record<string, string> = {
  databaseUrl: 'DATABASE_URL',
  busUrl: 'BUS_URL',
  'sensorlog.clusterEvery': 'WATTLINE_CLUSTER_EVERY',
};

export interface SettingDoc {
  path: string;
  env: string;
  default: unknown;
  doc: string;
}

/** Every leaf setting with its variable, default and description, in schema order. */
export function listSettings(): SettingDoc[] {
  const out: SettingDoc[] = [];
  const walk = (shape: Record<string, z.ZodType>, prefix: string[]) => {
    for (const [name, schema] of Object.entries(shape)) {
      const path = [...prefix, name];
      const inner = unwrapObject(schema);
      if (inner) walk(inner.shape as Record<string, z.ZodType>, path);
      else {
        const parsed = schema.safeParse(undefined);
        out.push({
          path: path.join('.'),
          env: envName(path),
          default: parsed.success ? parsed.data : undefined,
          doc: schema.description ?? '',
        });
      }
    }
  };
  walk(configSchema.shape as Record<string, z.ZodType>, []);
  return out;
}

function unwrapObject(schema: z.ZodType): z.ZodObject | undefined {
  if (schema instanceof z.ZodObject) return schema;
  const def = (schema as { def?: { innerType?: z.ZodType } }).def;
  return def?.innerType ? unwrapObject(def.innerType) : undefined;
}

export class ConfigError extends Error {}

export interface LoadConfigOptions {
  env?: Record<string, string | undefined>;
  /** YAML file path; otherwise `WATTLINE_CONFIG` from env. */
  configFile?: string;
  /** Values that win over everything (used by tests and the CLI). */
  overrides?: Record<string, unknown>;
}

/** Reads YAML (optional) and the environment once, validates, and returns a frozen config. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? {};
  const file = options.configFile ?? env.WATTLINE_CONFIG;
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`config file ${file} cannot be read: ${(err as Error).message}`);
    }
    const parsed: unknown = YAML.parse(text) ?? {};
    if (typeof parsed !== 'object' || Array.isArray(parsed))
      throw new ConfigError(`config file ${file} must hold a YAML mapping`);
    raw = parsed as Record<string, unknown>;
  }
  for (const s of listSettings()) {
    const value = env[s.env];
    if (value !== undefined) setPath(raw, s.path.split('.'), value);
  }
  for (const [path, value] of Object.entries(options.overrides ?? {})) setPath(raw, path.split('.'), value);

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const messages = result.error.issues.map((issue) => {
      const path = issue.path.map(String);
      const got = getPath(raw, path);
      // never echo API keys back into logs
      const shown = got === undefined || path[0] === 'apiKeys' ? '' : ` (got ${JSON.stringify(got)})`;
      return `${envName(path)} (${path.join('.')}): ${issue.message}${shown}`;
    });
    throw new ConfigError(`invalid settings:\n  ${messages.join('\n  ')}`);
  }
  return deepFreeze(result.data);
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown) {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

function getPath(source: Record<string, unknown>, path: string[]): unknown {
  let node: unknown = source;
  for (const key of path) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
