import { IANAZone } from 'luxon';
import { z } from 'zod';
import { flag, int, listOf } from './settings.js';

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

/**
 * Core's settings: where Wattline listens and keeps its data, its keys, store, bus, logs, time zone,
 * rate limits and blob credentials. Each module declares its own in its `settings.ts`;
 * `src/config.ts` composes them all.
 */
export const coreSettings = z.object({
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
  apiKeyRecheckS: int(
    30,
    1,
    3600,
    'How often a process re-checks a key it knows against the store; a key revoked by another process sharing the store stops working within this many seconds.',
  ),
  requireReadKey: flag(false, 'Require a key (any scope) for reads too; by default queries are open.'),
  logLevel: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info')
    .describe('Log level of the JSON logs on stdout.'),
  timezone: z
    .string()
    .refine((zone) => IANAZone.isValidZone(zone), { error: 'expected an IANA time zone such as Europe/London' })
    .default('Europe/London')
    .describe(
      'Time zone of calendar days: the daily energy report covers local days (46 or 50 half-hours at clock changes).',
    ),
  http: z
    .object({
      headersTimeoutMs: int(
        30_000,
        1000,
        600_000,
        "Longest a client may take to send a request's headers; slower, it gets 408 and the connection is closed.",
      ),
      bodyTimeoutMs: int(
        20_000,
        100,
        3_600_000,
        "Longest the server waits for a request body's bytes, plus a second for every `http.bodyMinBytesPerSecond` bytes received (Apache's mod_reqtimeout rule): a body trickling slower than that rate is cut after about this long with 408 and the connection closed; a large upload at a normal rate is never cut. Only time spent waiting for the client counts, not time the server holds the body back (ingest backpressure); lines of an NDJSON body stored before the cut are counted in the reply's `accepted`.",
      ),
      bodyMinBytesPerSecond: int(
        500,
        1,
        1024 ** 3,
        'The slowest average rate a request body may arrive at, in bytes per second (see `http.bodyTimeoutMs`).',
      ),
      keepAliveTimeoutMs: int(
        72_000,
        1000,
        3_600_000,
        'How long an idle keep-alive connection stays open between requests (longer than the 60 s idle timeout of common load balancers, so none reuses a connection the server has just closed).',
      ),
      maxBodyBytes: int(
        10 * 1024 * 1024,
        1024,
        1024 ** 3,
        'Largest JSON, form or text body the server reads whole (keys, settings, sensor registrations, Emoncms posts); a larger one is answered 413 `body_too_large` before it is read. NDJSON and line-protocol ingest bodies are streamed instead and have no such bound.',
      ),
      corsOrigins: listOf(
        z.string().regex(/^https?:\/\/[^/\s]+$/, { error: 'expected an origin such as https://dash.example.com' }),
      )
        .default([])
        .describe(
          'Web origins whose pages may call the API from a browser (CORS), e.g. `["https://dash.example.com"]`; empty (the default): none, so a page elsewhere cannot read answers or send keys.',
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
      // unset: sized from the machine when the store opens (src/core/store/duckdb.ts says why), so the
      // schema's defaults, and the README table made from them, are the same on every machine
      duckdbMemoryLimit: z
        .string()
        .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, { error: 'expected a size such as 512MB or 2GB' })
        .optional()
        .describe(
          "Memory DuckDB may use for its buffers, sorts and aggregates (embedded store), e.g. `2GB`; beyond it, work spills to `<data dir>/wattline.duckdb.tmp`. Unset: a quarter of the machine's RAM (DuckDB's own default, 80 %, leaves too little for Node, the parse workers and the OS).",
        ),
      duckdbThreads: z.coerce
        .number()
        .int({ error: 'expected a whole number' })
        .min(1)
        .max(1024)
        .optional()
        .describe(
          "Threads DuckDB runs queries and compactions on (embedded store). Unset: the machine's available parallelism; lower it where Wattline shares the machine.",
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
      queueLimit: int(
        2_000_000,
        1000,
        100_000_000,
        'Rows waiting to be committed before further batches are refused and ingest answers 503 with `Retry-After` (the in-process bus; on NATS `bus.maxBytes` and `bus.maxMessages` limit the stream instead).',
      ),
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
});

export type CoreConfig = Readonly<z.output<typeof coreSettings>>;

/** Core settings that moved: the in-process bus's queue limit was `ingest.queueLimit`. */
export const renamed = { 'ingest.queueLimit': 'bus.queueLimit' } as const;

export { ConfigError } from './settings.js';
