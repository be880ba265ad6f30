import { Connections } from './connections.js';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { z } from 'zod';
import { ApiKeys } from './auth/api-keys.js';
import { createInProcessBus } from './bus/index.js';
import { coreSettings } from './config.js';
import { createGrpcServer } from './grpc/server.js';
import { createHttpServer } from './http/server.js';
import { createLogger } from './log.js';
import { createMetrics } from './metrics.js';
import { defineModule, type Role } from './module.js';
import { type Core, startModule } from './modules.js';
import { loadMigrations, openStore } from './store/index.js';

async function coreWith(t: TestContext, roles: Role[]): Promise<Core> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-modules-'));
  const log = createLogger('silent');
  const metrics = createMetrics();
  const store = await openStore({ dataDir, poolSize: 1, schema: 'public' });
  await store.migrate('core', loadMigrations(path.join(import.meta.dirname, 'migrations'), store.kind));
  const http = await createHttpServer({ log, metrics, version: 'test' });
  t.after(async () => {
    await http.close();
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const keys = await ApiKeys.open({ store, configured: [], dataDir });
  return {
    config: coreSettings.parse({ dataDir }),
    log,
    registry: metrics.registry,
    store,
    bus: createInProcessBus(),
    http,
    grpc: createGrpcServer({ log, metrics, limiter: undefined, keys, requireReadKey: false }),
    keys,
    roles: new Set(roles),
    connections: new Connections(),
  };
}

/** A module whose every role part records that it ran, with a route per role. */
function recordingModule(events: string[]) {
  const part = (role: Role) => ({
    start: () => {
      events.push(`start ${role}`);
      return () => void events.push(`stop ${role}`);
    },
    routes: async (http: import('fastify').FastifyInstance) => {
      http.get(`/${role}`, { config: { access: 'public' } }, async () => ({ role }));
    },
  });
  return defineModule({
    name: 'recording',
    settings: z.object({ recording: z.object({ greeting: z.string().default('hi') }).prefault({}) }),
    create: (ctx: { settings: { recording: { greeting: string } } }) => {
      events.push(`created with ${JSON.stringify(ctx.settings)}`);
      return {
        service: { greeting: ctx.settings.recording.greeting },
        roles: { api: part('api'), ingest: part('ingest'), persist: part('persist'), jobs: part('jobs') },
        close: async () => void events.push('closed'),
      };
    },
  });
}

test('a module runs only the parts of the roles its process has, sees only its own settings, and stops in reverse', async (t) => {
  const core = await coreWith(t, ['api', 'jobs']);
  const events: string[] = [];
  const config = { recording: { greeting: 'hello' }, other: { secret: 'not yours' } };
  const started = await startModule(core, recordingModule(events), config, {});
  assert.deepEqual(started.service, { greeting: 'hello' });
  assert.equal((await core.http.inject({ url: '/api' })).statusCode, 200);
  assert.equal((await core.http.inject({ url: '/jobs' })).statusCode, 200);
  assert.equal((await core.http.inject({ url: '/ingest' })).statusCode, 404);
  await started.stop();
  assert.deepEqual(events, [
    'created with {"recording":{"greeting":"hello"}}',
    'start api',
    'start jobs',
    'stop jobs',
    'stop api',
    'closed',
  ]);
});

test('a part that fails to start stops what started before it, and start-up fails with its error', async (t) => {
  const core = await coreWith(t, ['persist', 'jobs']);
  const events: string[] = [];
  const failing = defineModule({
    name: 'failing',
    create: () => ({
      service: undefined,
      roles: {
        persist: { start: () => () => void events.push('stop persist') },
        jobs: {
          start: () => {
            throw new Error('schedule is wrong');
          },
        },
      },
      close: async () => void events.push('closed'),
    }),
  });
  await assert.rejects(startModule(core, failing, {}, {}), /schedule is wrong/);
  assert.deepEqual(events, ['stop persist', 'closed']);
});
