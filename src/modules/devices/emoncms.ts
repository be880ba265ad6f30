import zlib from 'node:zlib';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInput, Overloaded, RateLimited, WattlineError } from '../../core/errors.js';
import { SERIES_KEY_PATTERN } from '../../core/readings.js';
import type { DeviceReading } from './format.js';
import { emonReading } from './formats/emonhub.js';
import { type DeviceSink, type Origin, seriesOf } from './sink.js';

/**
 * The Emoncms input API (emoncms `Modules/input/input_methods.php`, its API help page), so emonhub,
 * emonTx/emonPi setups and scripts written for Emoncms post unchanged:
 *
 * - `GET|POST /input/post[.json][/<node>]?node=&fulljson=|json=|csv=|data=[&time=]`: one node's
 *   inputs at `time` (Unix seconds; default now). `fulljson` is a JSON object; `json` the relaxed
 *   `{power:200,temp:21}` form, read the way Emoncms reads it (every character but letters, digits,
 *   `_ - . : ,` and spaces dropped, then `key:value` pairs); `csv` values are named `1`, `2`, `3`…
 *   (unnamed values in `json` too). The node defaults to `0`.
 * - `GET|POST /input/bulk[.json]?data=[[t,node,v1,…],…]`: frames of several nodes, a value either a
 *   number (named by its position, from `1`) or `{"name":value}`; `t` is seconds from a reference:
 *   `sentat=S` (the sender's clock when it sent, as emonhub does: `t` and `S` on the sender's clock,
 *   so its clock error cancels), `offset=O` (relative to now + O), `time=T` (relative to T), or none
 *   (the last frame is now). `cb=1`: the body is the zlib-compressed `data` (emonhub `sendnames`).
 *
 * Parameters come from the query or a form body. Series are `emoncms/<node>/<input>`, units by the
 * emon input names (formats/emonhub.ts `emonInput`). Replies as Emoncms gives them: `ok`, or
 * `{"success":true}` for `fulljson`; errors `{"success":false,"message"}` with a 4xx status (400 a
 * format error or a bad value, 401/403 the key, 413 too large a body), a bad value naming its node
 * and input while the good ones are stored.
 */

// the range of a JavaScript Date
const MAX_TIME_MS = 8.64e15;

/** Where the API's readings go: series `emoncms/<node>/<input>`. */
export const EMONCMS_ORIGIN: Origin = { family: 'emoncms', source: 'emoncms', prefix: 'emoncms' };

/** A request's parameters, from its query and form body (the query first, as Emoncms's `prop()`). */
export type Params = Record<string, string | undefined>;

/** What a request said: the readings it holds, and why each bad value was left out. */
export interface Posted {
  readings: DeviceReading[];
  invalid: string[];
}

/** `input/post`: one node's inputs at one time. */
export function parsePost(params: Params, pathNode: string | undefined, nowMs: number): Posted {
  const node = nodeName(pathNode ?? params.node);
  const ts = params.time === undefined ? nowMs : secondsToMs(params.time, 'time');
  // Emoncms's order: json, fulljson, csv, data
  const fulljson = params.json === undefined ? params.fulljson : undefined;
  const relaxed = params.json ?? (fulljson === undefined ? (params.csv ?? params.data) : undefined);
  const text = relaxed ?? fulljson;
  if (!text) throw new InvalidInput('no_data', 'Request contains no data via csv, json or data tag');
  const posted: Posted = { readings: [], invalid: [] };
  const pairs = relaxed === undefined ? Object.entries(fullJson(text)) : relaxedPairs(relaxed);
  for (const [input, raw] of pairs) take(posted, '', node, input, ts, raw);
  return posted;
}

/** `input/bulk`: frames `[t, node, values…]` of several nodes at their own times. */
export function parseBulk(params: Params, nowMs: number): Posted {
  let frames: unknown;
  try {
    frames = JSON.parse(params.data ?? '');
  } catch {
    frames = undefined;
  }
  if (!Array.isArray(frames) || frames.length === 0)
    throw new InvalidInput('invalid_bulk', 'Format error, json string supplied is not valid', { field: 'data' });
  const last = frames[frames.length - 1];
  if (!Array.isArray(last) || numeric(last[0]) === undefined)
    throw new InvalidInput('invalid_bulk', 'Format error, last item in bulk data does not contain any data', {
      field: 'data',
    });
  const referenceMs = bulkReference(params, nowMs, numeric(last[0]) as number);
  const posted: Posted = { readings: [], invalid: [] };
  for (const [i, frame] of frames.entries()) readFrame(frame, i + 1, referenceMs, posted);
  return posted;
}

/** One bulk frame `[t, node, values…]` into `posted`; Emoncms skips frames without a value. */
function readFrame(frame: unknown, n: number, referenceMs: number, posted: Posted): void {
  if (!Array.isArray(frame) || frame.length <= 2) return;
  const t = numeric(frame[0]);
  if (t === undefined) {
    posted.invalid.push(`frame ${n}: its time is not a number`);
    return;
  }
  if (typeof frame[1] === 'object' && frame[1] !== null) {
    posted.invalid.push(`frame ${n}: Format error, node must not be an object`);
    return;
  }
  const node = nodeName(frame[1] === null ? undefined : String(frame[1]));
  const ts = Math.round(referenceMs + t * 1000);
  let position = 1;
  for (const item of frame.slice(2)) {
    const named = typeof item === 'object' && item !== null && !Array.isArray(item);
    const entries: [string, unknown][] = named ? Object.entries(item) : [[String(position++), item]];
    for (const [input, raw] of entries) take(posted, `frame ${n} `, node, input, ts, raw);
  }
}

/**
 * One input's value into `posted`, or the reason it is left out. An empty value (`null`, `""`) is
 * skipped, as Emoncms skips it (keeping its position in a frame).
 */
function take(posted: Posted, where: string, node: string, input: string, ts: number, raw: unknown): void {
  if (raw === null || raw === '') return;
  const value = numeric(raw);
  const at = `${where}node ${node} input ${input.slice(0, 100)}`;
  if (value === undefined) posted.invalid.push(`${at}: ${JSON.stringify(raw).slice(0, 40)} is not a number`);
  else if (!SERIES_KEY_PATTERN.test(seriesOf(EMONCMS_ORIGIN.prefix, { device: node, quantity: input })))
    posted.invalid.push(`${at}: the node and input names make too long a series key (at most 200 characters)`);
  else if (!(Math.abs(ts) <= MAX_TIME_MS)) posted.invalid.push(`${at}: its time is out of range`);
  else posted.readings.push(emonReading(node, input, ts, value));
}

/**
 * The time (ms) a bulk frame's `t` counts from. Emoncms's help page: `offset=-10` makes `t=-6` 16 s
 * before now (its PHP subtracts the offset instead, contradicting its own examples: the documented
 * meaning is kept); `sentat`: now − sentat, so the sender's clock error cancels.
 */
function bulkReference(params: Params, nowMs: number, lastT: number): number {
  if (params.sentat !== undefined) return nowMs - secondsToMs(params.sentat, 'sentat');
  if (params.offset !== undefined) return nowMs + secondsToMs(params.offset, 'offset');
  if (params.time !== undefined) return secondsToMs(params.time, 'time');
  return nowMs - lastT * 1000;
}

/** A node name as Emoncms keeps it: letters, digits, `_`, `-`, `.` and spaces; empty is node 0. */
function nodeName(raw: string | undefined): string {
  return (raw ?? '').replace(/[^\p{N}\p{L}_\s.-]/gu, '').trim() || '0';
}

function secondsToMs(raw: string, field: string): number {
  const seconds = numberOf(raw);
  if (seconds === undefined)
    throw new InvalidInput(`invalid_${field}`, `${field} must be Unix seconds, a number (got ${raw.slice(0, 40)})`, {
      field,
    });
  return seconds * 1000;
}

/** A finite number, or a string holding one (PHP's `is_numeric`); undefined otherwise. */
function numeric(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  return typeof raw === 'string' ? numberOf(raw) : undefined;
}

function fullJson(text: string): Record<string, unknown> {
  let inputs: unknown;
  try {
    inputs = JSON.parse(text);
  } catch {
    throw new InvalidInput('invalid_json', 'Error decoding JSON string (invalid or too deeply nested)', {
      field: 'fulljson',
    });
  }
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs))
    throw new InvalidInput('invalid_json', 'Input must be a JSON object', { field: 'fulljson' });
  return inputs as Record<string, unknown>;
}

/** `json=`/`csv=` pairs, as Emoncms reads them: `key:value`, or a bare value named by its position. */
function relaxedPairs(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  let position = 0;
  for (const part of text.replace(/[^\p{N}\p{L}_\s.:,-]/gu, '').split(',')) {
    const [key, value] = part.split(':');
    if (value === undefined) pairs.push([String(++position), key]);
    else if (key.trim() === '')
      throw new InvalidInput('invalid_json', 'Format error, json key missing or invalid character', { field: 'json' });
    else pairs.push([key.trim(), value]);
  }
  return pairs;
}

/** The key in `?apikey=` for the access check (core/auth/access.ts `credentials`), as Emoncms clients send it. */
export function apikeyCredentials(request: FastifyRequest): string | undefined {
  const given = (request.query as Record<string, string | string[] | undefined> | undefined)?.apikey;
  const apikey = Array.isArray(given) ? given.at(-1) : given;
  return apikey ? `Bearer ${apikey}` : undefined;
}

/** The request's parameters: the query's, then a form (or JSON) body's, then a compressed `data` (`cb=1`). */
function paramsOf(request: FastifyRequest, maxBytes: number): Params {
  const params: Params = {};
  // a name given twice (`?node=a&node=b`) is an array in Fastify's query: the last one, as PHP takes it
  // (found by fuzzing: an array reached the parsers, a 500)
  for (const [k, v] of Object.entries(request.query as Record<string, string | string[] | undefined>))
    params[k] = Array.isArray(v) ? v.at(-1) : v;
  const body = request.body;
  if (Buffer.isBuffer(body)) {
    if (params.cb === '1' && body.length) params.data = inflate(body, maxBytes);
  } else if (typeof body === 'object' && body !== null) {
    for (const [k, v] of Object.entries(body))
      params[k] ??= typeof v === 'string' ? v : v === undefined ? undefined : asJson(v, k);
  }
  return params;
}

/** A JSON body's value as the text a query would hold. */
function asJson(value: unknown, name: string): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    // nesting JSON.parse takes but JSON.stringify cannot (found by fuzzing: 5000 `[`, a 500)
    if (err instanceof RangeError)
      throw new InvalidInput('invalid_body', `${name.slice(0, 40)}: the JSON is nested too deeply`, { field: name });
    throw err;
  }
}

function inflate(body: Buffer, maxBytes: number): string {
  try {
    return zlib.inflateSync(body, { maxOutputLength: maxBytes }).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new WattlineError('body_too_large', `the decompressed body is over ${maxBytes} bytes`, { status: 413 });
    throw new InvalidInput('invalid_body', 'cb=1: the body is not zlib-compressed data', { cause: err });
  }
}

/** The Emoncms input API's routes (role `ingest`): readings through the devices sink. */
export function emoncmsRoutes(deps: { sink: DeviceSink; now: () => number }): FastifyPluginAsync {
  return async (http) => {
    // the server's body limit (http.initialConfig) bounds a form body and, decompressed, a `cb=1` one;
    // the key is checked before any body is read (access.ts), so a client without one reads nothing
    const maxBytes = http.initialConfig.bodyLimit ?? 1024 * 1024;
    http.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    http.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    http.setErrorHandler(emoncmsError);

    const store = async (posted: Posted, reply: FastifyReply, fulljson: boolean) => {
      if (posted.readings.length) await deps.sink.write(posted.readings, EMONCMS_ORIGIN);
      if (posted.invalid.length) {
        const shown = posted.invalid.slice(0, 5).join('; ') + (posted.invalid.length > 5 ? '; …' : '');
        throw new InvalidInput(
          'invalid_value',
          `${shown} (${posted.invalid.length} left out, ${posted.readings.length} stored)`,
        );
      }
      return fulljson ? reply.send({ success: true }) : reply.type('text/plain; charset=utf-8').send('ok');
    };
    const config = { access: 'write' as const, credentials: apikeyCredentials };
    const tags = ['devices'];

    for (const url of ['/input/post', '/input/post.json', '/input/post/:node'])
      http.route({
        method: ['GET', 'POST'],
        url,
        config,
        schema: {
          summary: 'Emoncms input API: post one node’s inputs',
          description:
            '`?node=&fulljson={"P1":100}` | `json={P1:100,E1:5}` | `csv=100,200` `[&time=<Unix s>]`, from the query or a form body; key as `Authorization: Bearer` or `?apikey=`. Series `emoncms/<node>/<input>`. Replies `ok` (`{"success":true}` for fulljson), errors `{"success":false,"message"}`.',
          tags,
        },
        handler: async (request, reply) => {
          const params = paramsOf(request, maxBytes);
          const { node } = request.params as { node?: string };
          return store(parsePost(params, node, deps.now()), reply, params.fulljson !== undefined);
        },
      });
    for (const url of ['/input/bulk', '/input/bulk.json'])
      http.route({
        method: ['GET', 'POST'],
        url,
        config,
        schema: {
          summary: 'Emoncms input API: post frames of several nodes',
          description:
            '`?data=[[t,node,v1,…],…]` with `sentat=` | `offset=` | `time=` (seconds) or none (the last frame is now); `cb=1`: the body is the zlib-compressed data. Replies `ok`, errors `{"success":false,"message"}`.',
          tags,
        },
        handler: async (request, reply) => {
          const params = paramsOf(request, maxBytes);
          return store(parseBulk(params, deps.now()), reply, params.fulljson !== undefined);
        },
      });
  };
}

/** Errors as Emoncms words them (`{"success":false,"message"}`), with their 4xx status; our own faults go to core's handler. */
function emoncmsError(error: FastifyError | WattlineError, _request: FastifyRequest, reply: FastifyReply) {
  const status = error instanceof WattlineError ? error.status : error.statusCode;
  if (!status || (status >= 500 && !(error instanceof Overloaded))) throw error;
  if (error instanceof Overloaded || error instanceof RateLimited)
    reply.header('retry-after', String(error.retryAfterS));
  // Emoncms's two fields, and core's (`error`, `code`) for clients of the rest of the API
  const code = error instanceof WattlineError ? error.code : (error.code ?? 'bad_request').toLowerCase();
  return reply.code(status).send({ success: false, message: error.message, error: error.message, code });
}

/** A plain decimal number in text (`230.5`, ` -12`, `1e3`, as PHP's `is_numeric`); undefined for anything else. */
function numberOf(text: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text.trim())) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
