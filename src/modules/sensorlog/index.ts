import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireKey } from '../../core/auth/hooks.js';
import { InvalidInput, WattlineError } from '../../core/errors.js';
import type { CoreContext, StartedModule } from '../../core/module.js';
import { READINGS_TOPIC, ReadingBatchBuilder } from '../../core/readings.js';
import { loadMigrations } from '../../core/store/index.js';
import { parseTimestamp } from '../../core/time/timestamps.js';
import { READING_FIELDS, toSensorEvent, type SensorEvent } from './event.js';
import { parseSensorLog } from './parser.js';
import { createClustering } from './clustering.js';
import { clusterSummary, insertEvents, listEvents } from './repository.js';

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** The body as the original clients send it: a raw line (text/plain or no type) or JSON (an object, or a string). */
function bodyOf(request: FastifyRequest): { kind: 'text'; text: string } | { kind: 'json'; value: unknown } {
  const body = request.body;
  if (typeof body === 'string' && !/json/i.test(request.headers['content-type'] ?? ''))
    return { kind: 'text', text: body };
  let value: unknown = body;
  // double-encoded: a JSON string that holds the event's JSON (or a raw line)
  if (typeof value === 'string') {
    const text = value;
    try {
      value = JSON.parse(text);
    } catch {
      return { kind: 'text', text };
    }
  }
  // a JSON string holding the event's JSON, as the original clients send it
  if (typeof value === 'string' && value.trimStart().startsWith('{')) {
    try {
      value = JSON.parse(value);
    } catch {
      // not JSON after all: a log line that starts with "{"
    }
  }
  return typeof value === 'string' ? { kind: 'text', text: value } : { kind: 'json', value };
}

/**
 * Sensor logs (energy-sensors): `POST /log/parse` returns a line's parsed event; `POST /log/store`
 * stores one event or many lines — each event in `sensor_events`, and its numbers as readings
 * `sensorlog/<device>/<field>`. Clustering comes next (issue #5).
 */
export async function startSensorlog(ctx: CoreContext): Promise<StartedModule> {
  const { store, bus, config } = ctx;
  await store.migrate('sensorlog', loadMigrations(migrationsDir, store.kind));
  const log = ctx.log.child({ module: 'sensorlog' });
  const clustering = createClustering({ store, log, every: config.sensorlog.clusterEvery });
  if (ctx.roles.has('api')) {
    ctx.http.get(
      '/clusters/summary',
      { schema: { summary: 'Clusters of the stored sensor events (energy-sensors shape)', tags: ['sensorlog'] } },
      async () => ({ clusters: await clusterSummary(store) }),
    );
    ctx.http.get<{ Querystring: { cluster?: string; from?: string; to?: string } }>(
      '/api/v1/sensorlog/events',
      { schema: { summary: 'Stored sensor events with their cluster label (at most 1000)', tags: ['sensorlog'] } },
      async (request) => {
        const { cluster, from, to } = request.query;
        const label = cluster === undefined ? undefined : Number(cluster);
        if (label !== undefined && !Number.isInteger(label))
          throw new InvalidInput('invalid_cluster', 'cluster must be a whole number (-1: outliers)', {
            field: 'cluster',
          });
        const time = (v: string | undefined, field: string) => {
          if (v === undefined) return undefined;
          const ms = parseTimestamp(v);
          if (Number.isNaN(ms))
            throw new InvalidInput(`invalid_${field}`, `${field} must be ISO 8601 or epoch milliseconds`, { field });
          return ms;
        };
        return {
          events: await listEvents(store, { cluster: label, fromMs: time(from, 'from'), toMs: time(to, 'to') }),
        };
      },
    );
  }
  if (!ctx.roles.has('ingest')) return { name: 'sensorlog', stop: () => clustering.stop() };
  // events stored before this start and never clustered count towards the next run
  const [{ n }] = await store.query<{ n: number }>(`SELECT count(*) AS n FROM sensor_events WHERE cluster IS NULL`);
  clustering.stored(n);

  async function storeEvents(events: SensorEvent[]) {
    if (!events.length) return;
    await store.transaction((tx) => insertEvents(tx, events));
    const builder = new ReadingBatchBuilder(events.length * Object.keys(READING_FIELDS).length);
    for (const e of events) {
      for (const [field, prop] of Object.entries(READING_FIELDS)) {
        const value = e[prop];
        if (value !== null) builder.add({ series: `sensorlog/${e.deviceId}/${field}`, ts: e.reportedAtMs, value });
      }
    }
    await bus.publish(READINGS_TOPIC, builder.take());
    clustering.stored(events.length);
  }

  await ctx.http.register(async (scope: FastifyInstance) => {
    // the original clients send text/plain, JSON, or no Content-Type at all: take them all as text
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 16 * 1024 * 1024 }, (_request, body, done) =>
      done(null, body),
    );
    const writeKey = requireKey(ctx.keys, 'write', !config.sensorlog.open);

    scope.post(
      '/log/parse',
      { schema: { summary: 'Parse a sensor log line', tags: ['sensorlog'] } },
      async (request) => {
        const body = bodyOf(request);
        if (body.kind !== 'text')
          throw new InvalidInput('invalid_body', 'send the log line as text/plain or a JSON string', { field: 'body' });
        return parseSensorLog(body.text);
      },
    );

    scope.post(
      '/log/store',
      {
        onRequest: writeKey,
        schema: {
          summary: 'Store sensor log events (one line per event, or a parsed event as JSON)',
          tags: ['sensorlog'],
        },
      },
      async (request, reply) => {
        const body = bodyOf(request);
        if (body.kind === 'json') {
          await storeEvents([toSensorEvent(body.value)]);
          return {};
        }
        const lines = body.text.split('\n').map((l) => l.replace(/\r$/, ''));
        const numbered = lines.map((text, i) => ({ text, line: i + 1 })).filter((l) => l.text.trim() !== '');
        const good: SensorEvent[] = [];
        const errors: { line: number; error: string }[] = [];
        for (const { text, line } of numbered) {
          try {
            good.push(toSensorEvent(parseSensorLog(text)));
          } catch (err) {
            if (!(err instanceof WattlineError)) throw err;
            errors.push({ line, error: err.message });
          }
        }
        await storeEvents(good);
        if (!errors.length) return {};
        reply.code(400);
        // one event: the original's {"error"}; several: the good ones are kept and the bad named by line
        return numbered.length === 1 ? { error: errors[0].error } : { stored: good.length, errors };
      },
    );
  });
  return { name: 'sensorlog', stop: () => clustering.stop() };
}
