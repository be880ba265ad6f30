import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { z } from 'zod';
import { createLogger } from '../src/core/log.js';
import type { Connector } from '../src/modules/sources/connector.js';
import { createUpstream } from '../src/modules/sources/http.js';
import { startHealing } from '../src/modules/sources/runner.js';
import { build } from './helpers.js';

const H = 3_600_000;

/** A local port nothing listens on: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A local upstream that answers `{}` to everything. */
async function answeringUpstream(t: TestContext): Promise<string> {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** The log lines written at `level` or above, parsed. */
function captureLog() {
  const lines: { level: number; msg: string; [field: string]: unknown }[] = [];
  const log = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines, at: (level: 'debug' | 'info' | 'warn') => lines.filter((l) => l.level === LEVELS[level]) };
}
const LEVELS = { debug: 20, info: 30, warn: 40 };

test('a source that cannot reach its upstream warns once per outage and says when it is back', async (t) => {
  const w = await build(t);
  const { log, at } = captureLog();
  let url = `http://127.0.0.1:${await closedPort()}/`;
  const connector: Connector = {
    name: 'test-source',
    chunkMs: 24 * H,
    bootstrapDays: 0,
    pollMs: 24 * H, // never by the timer: the test polls
    lookbackMs: H,
    series: [],
    async fetch(_range, upstream) {
      await upstream.getJson(url, z.object({}));
      return [];
    },
  };
  const upstream = createUpstream({
    name: connector.name,
    timeoutMs: 5000,
    retries: 2,
    retryBaseMs: 1,
    minIntervalMs: 0,
    log,
  });
  const abort = new AbortController();
  const healing = startHealing(
    { connector, upstream, store: w.app.ctx.store, bus: w.app.ctx.bus, log, connections: w.app.ctx.connections },
    async () => undefined,
    abort.signal,
  );
  t.after(async () => {
    abort.abort();
    await healing.stop();
  });
  // the poll at start and four more, all refused, each after its retries
  for (let i = 0; i < 4; i++) await healing.pollNow();
  const warnings = at('warn');
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.equal(warnings[0].source, 'test-source');
  assert.match(String(warnings[0].reason), /upstream unreachable: 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  // each retry's details are still there at debug level: 5 polls of 3 attempts
  assert.equal(at('debug').filter((l) => l.upstream === 'test-source' && l.attempt !== undefined).length, 15);
  assert.equal(at('info').length, 0);
  // and /ready lists it as away, with the reason, while the process stays ready
  const ready = await w.request('/ready');
  assert.equal(ready.status, 200);
  const report = (ready.body as { connections: Record<string, { status: string; error?: string }> }).connections;
  assert.equal(report['source:test-source'].status, 'unavailable');
  assert.match(report['source:test-source'].error ?? '', /ECONNREFUSED/);

  url = await answeringUpstream(t);
  await healing.pollNow();
  const readyAgain = (await w.request('/ready')).body as { connections: Record<string, { status: string }> };
  assert.equal(readyAgain.connections['source:test-source'].status, 'ok');
  const back = at('info').filter((l) => l.source === 'test-source');
  assert.equal(back.length, 1, JSON.stringify(back));
  assert.match(back[0].msg, /back after/);
  assert.equal(typeof back[0].downMs, 'number');
  await healing.pollNow();
  assert.equal(at('info').length, 1);
  assert.equal(at('warn').length, 1);

  // a new outage warns again, once
  url = `http://127.0.0.1:${await closedPort()}/`;
  await healing.pollNow();
  await healing.pollNow();
  assert.equal(at('warn').length, 2);
});

test('wattline process without its upstreams answers at once with each worker FAILED and why', async (t) => {
  const port = await closedPort();
  // the default retries (5, from 1 s doubling) would take a minute per source
  const w = await build(t, { 'carbon.url': `http://127.0.0.1:${port}`, 'carbon.bootstrapDays': 0 });
  const r = await w.request('/api/v1/daily/process', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: '2024-03-05' }),
    // the CLI's user waits for this answer: it must come long before a minute
    signal: AbortSignal.timeout(15_000),
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const statuses: { service: string; status: string; reason: string }[] = r.body.statuses['2024-03-05'];
  const byService = Object.fromEntries(statuses.map((s) => [s.service, s]));
  assert.deepEqual(Object.keys(byService).sort(), ['carbon', 'mix', 'prices', 'usage']);
  for (const s of statuses) assert.equal(s.status, 'FAILED', JSON.stringify(s));
  const unreachable = new RegExp(`upstream unreachable: 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`);
  assert.match(byService.carbon.reason, unreachable);
  assert.match(byService.mix.reason, unreachable);
  // the Octopus connectors are off without their settings, and say so
  assert.match(byService.usage.reason, /off/);
  assert.match(byService.prices.reason, /off/);
});
