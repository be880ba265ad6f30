import fs from 'node:fs';
import type { TestContext } from 'node:test';
import { connect } from 'nats';
import pg from 'pg';
import { tempDir } from './helpers.js';
import { type ServeProcess, startServe } from './serve.js';
import { services } from './services.js';

/**
 * A cluster of `wattline serve --roles …` processes sharing one PostgreSQL schema and NATS streams of
 * their own, all killed and their schema and streams removed when the test ends. `env` goes to
 * every process; `start(roles, env)` adds to it for one.
 */
export async function startCluster(t: TestContext, options: { name: string; env: Record<string, string> }) {
  const id = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const schema = `wattline_${options.name}_${id}`;
  const stream = `WL${options.name.toUpperCase()}_${id}`;
  const procs: ServeProcess[] = [];
  t.after(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    const db = new pg.Client({ connectionString: services.postgres.url });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.end();
    const nc = await connect({ servers: services.nats.url });
    const jsm = await nc.jetstreamManager();
    for await (const name of jsm.streams.names()) if (name.startsWith(`${stream}_`)) await jsm.streams.delete(name);
    await nc.close();
  });
  const start = async (roles: string, env: Record<string, string> = {}): Promise<ServeProcess> => {
    const dataDir = tempDir();
    t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const proc = await startServe(dataDir, {
      args: ['--roles', roles],
      env: {
        DATABASE_URL: services.postgres.url,
        BUS_URL: services.nats.url,
        WATTLINE_STORE_SCHEMA: schema,
        WATTLINE_BUS_STREAM: stream,
        ...options.env,
        ...env,
      },
    });
    procs.push(proc);
    return proc;
  };
  return { start, schema };
}
