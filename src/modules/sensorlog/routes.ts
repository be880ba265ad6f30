import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { InvalidInput, WattlineError } from '../../core/errors.js';
import { parseTimestamp } from '../../core/time/timestamps.js';
import { type SensorEvent, toSensorEvent } from './event.js';
import { NO_SECTION, parseSensorLog } from './parser.js';
import type { Store } from '../../core/store/index.js';
import { clusterSummary, listEvents } from './repository.js';

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

// labels are -1 (outliers) and 0, 1, … in an INTEGER column
const MAX_CLUSTER = 2 ** 31 - 1;

/** `cluster` as written: digits with an optional `-`, no fraction, exponent, hex or blank (`Number` takes them all). */
function clusterLabel(raw: string): number {
  const label = /^-?\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(label >= -1 && label <= MAX_CLUSTER))
    throw new InvalidInput(
      'invalid_cluster',
      `cluster must be a whole number from -1 (outliers) to ${MAX_CLUSTER} (got "${raw.slice(0, 40)}")`,
      { field: 'cluster' },
    );
  return label;
}

/** `/clusters/summary` and `/api/v1/sensorlog/events` (reads). */
export const readRoutes =
  (store: Store): FastifyPluginAsync =>
  async (http) => {
    http.get(
      '/clusters/summary',
      { schema: { summary: 'Clusters of the stored sensor events (energy-sensors shape)', tags: ['sensorlog'] } },
      async () => ({ clusters: await clusterSummary(store) }),
    );
    http.get<{ Querystring: { cluster?: string; from?: string; to?: string } }>(
      '/api/v1/sensorlog/events',
      { schema: { summary: 'Stored sensor events with their cluster label (at most 1000)', tags: ['sensorlog'] } },
      async (request) => {
        const { cluster, from, to } = request.query;
        const label = cluster === undefined ? undefined : clusterLabel(cluster);
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
  };

/**
 * `POST /log/parse` (public: it stores nothing) and `POST /log/store` (write key, unless
 * `sensorlog.open`), taking bodies as the original clients send them.
 */
export const writeRoutes =
  ({
    open,
    maxLineBytes,
    maxBodyBytes,
    storeEvents,
  }: {
    open: boolean;
    maxLineBytes: number;
    maxBodyBytes: number;
    storeEvents: (events: SensorEvent[]) => Promise<void>;
  }): FastifyPluginAsync =>
  async (scope) => {
    // the original clients send text/plain, JSON, or no Content-Type at all: take them all as text
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: maxBodyBytes }, (_request, body, done) =>
      done(null, body),
    );

    scope.post(
      '/log/parse',
      // parsing stores nothing: open, as the original service was
      { config: { access: 'public' }, schema: { summary: 'Parse a sensor log line', tags: ['sensorlog'] } },
      async (request) => {
        const body = bodyOf(request);
        if (body.kind !== 'text')
          throw new InvalidInput('invalid_body', 'send the log line as text/plain or a JSON string', { field: 'body' });
        // one line per request, as the original took it; a newline at its end is still one line
        const lines = body.text.split('\n').filter((l) => l.trim() !== '');
        if (lines.length > 1)
          throw new InvalidInput(
            'invalid_body',
            `send one log line per request (got ${lines.length} lines); POST /log/store takes one line per event`,
            { field: 'body' },
          );
        try {
          return parseSensorLog(lines[0] ?? '', { maxLineBytes });
        } catch (err) {
          // the body is the one line: name it as the field
          if (err instanceof WattlineError && err.code === 'log_line_too_long')
            throw new InvalidInput(err.code, `log ${err.message}`, { field: 'body', cause: err });
          throw err;
        }
      },
    );

    scope.post(
      '/log/store',
      {
        config: { access: open ? 'public' : 'write' },
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
        const lines = body.text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
        const numbered = lines.map((text, i) => ({ text, line: i + 1 })).filter((l) => l.text.trim() !== '');
        if (numbered.length === 0) {
          const message = 'the body holds no event: send one log line per event, or a parsed event as JSON';
          throw new InvalidInput('invalid_body', message, { field: 'body' });
        }
        const good: SensorEvent[] = [];
        const errors: { line: number; error: string }[] = [];
        for (const { text, line } of numbered) {
          try {
            const event = parseSensorLog(text, { maxLineBytes });
            // `/log/parse` answers `{}` for it, as the seed did; there is nothing to store
            if (Object.keys(event).length === 0) throw new InvalidInput('invalid_log_line', NO_SECTION);
            good.push(toSensorEvent(event));
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
  };
