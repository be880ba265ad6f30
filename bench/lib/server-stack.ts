/**
 * Which stack a benchmark server runs on, and the environment that gives it that stack: the
 * embedded one (DuckDB file, in-process bus) or the server one (PostgreSQL and/or NATS JetStream).
 * Each server-stack server gets its own PostgreSQL schema and JetStream stream prefix, so runs never
 * see each other's data, and both are removed when the server is done with them.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import pg from 'pg';

export const STORES = ['duckdb', 'postgres'] as const;
export const BUSES = ['in-process', 'nats'] as const;
export type StoreKind = (typeof STORES)[number];
export type BusKind = (typeof BUSES)[number];

export interface Stack {
  store: StoreKind;
  bus: BusKind;
}

export const EMBEDDED: Stack = { store: 'duckdb', bus: 'in-process' };

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const DEFAULT_BUS_URL = 'nats://127.0.0.1:4222';

export const databaseUrl = () => process.env.BENCH_DATABASE_URL || DEFAULT_DATABASE_URL;
export const busUrl = () => process.env.BENCH_BUS_URL || DEFAULT_BUS_URL;

export const isEmbedded = (stack: Stack) => stack.store === EMBEDDED.store && stack.bus === EMBEDDED.bus;

/** `PostgreSQL + NATS`, `PostgreSQL, in-process bus`, `DuckDB + NATS`, `DuckDB, in-process`. */
export function describeStack(stack: Stack): string {
  const store = stack.store === 'postgres' ? 'PostgreSQL' : 'DuckDB';
  if (stack.bus === 'nats') return `${store} + NATS`;
  return stack.store === 'postgres' ? `${store}, in-process bus` : `${store}, in-process`;
}

/** A URL as it may be printed or saved: without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** Fails early, naming the setting to change, when a service the stack needs does not answer. */
export async function checkServices(stack: Stack): Promise<void> {
  if (stack.store === 'postgres') {
    const client = new pg.Client({ connectionString: databaseUrl() });
    try {
      await client.connect();
      await client.query('SELECT 1');
    } catch (err) {
      throw new Error(
        `--store postgres: cannot reach PostgreSQL at ${redactUrl(databaseUrl())} (set BENCH_DATABASE_URL): ${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  if (stack.bus === 'nats') {
    try {
      const nc = await connect({ servers: busUrl(), name: 'wattline-bench' });
      try {
        await nc.jetstreamManager();
      } finally {
        await nc.close();
      }
    } catch (err) {
      throw new Error(
        `--bus nats: cannot reach NATS JetStream at ${busUrl()} (set BENCH_BUS_URL): ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

export interface StackServerEnv {
  env: NodeJS.ProcessEnv;
  /** What this server's data lives in, for the results (no passwords). */
  resources: { schema?: string; busStreamPrefix?: string };
  /** Drops the schema and deletes the streams this server used; safe to call if it never started. */
  cleanup(): Promise<void>;
}

/**
 * The environment of one benchmark server on `stack`: the embedded stack never inherits a
 * `DATABASE_URL` or `BUS_URL` from the shell; the server stack gets the benchmark's URLs with a
 * schema and stream prefix of its own. gRPC always binds a free port.
 */
export function stackServerEnv(stack: Stack): StackServerEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, WATTLINE_GRPC_PORT: '0' };
  delete env.DATABASE_URL;
  delete env.BUS_URL;
  delete env.WATTLINE_STORE_SCHEMA;
  delete env.WATTLINE_BUS_STREAM;
  const id = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const resources: StackServerEnv['resources'] = {};
  if (stack.store === 'postgres') {
    resources.schema = `wattline_bench_${id}`;
    env.DATABASE_URL = databaseUrl();
    env.WATTLINE_STORE_SCHEMA = resources.schema;
  }
  if (stack.bus === 'nats') {
    resources.busStreamPrefix = `WATTLINE_BENCH_${id.toUpperCase()}`;
    env.BUS_URL = busUrl();
    env.WATTLINE_BUS_STREAM = resources.busStreamPrefix;
  }
  return {
    env,
    resources,
    async cleanup() {
      const failures: string[] = [];
      if (resources.schema)
        await dropSchema(resources.schema).catch((err: Error) =>
          failures.push(`schema ${resources.schema}: ${err.message}`),
        );
      if (resources.busStreamPrefix)
        await deleteStreams(resources.busStreamPrefix).catch((err: Error) =>
          failures.push(`streams ${resources.busStreamPrefix}_*: ${err.message}`),
        );
      if (failures.length) throw new Error(`benchmark cleanup failed: ${failures.join('; ')}`);
    },
  };
}

async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

async function deleteStreams(prefix: string) {
  const nc = await connect({ servers: busUrl(), name: 'wattline-bench-cleanup' });
  try {
    const jsm = await nc.jetstreamManager();
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix}_`)) names.push(name);
    for (const name of names) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}
