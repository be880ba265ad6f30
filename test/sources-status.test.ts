import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { buildMode, MODES, until } from './helpers.js';

interface SourceRow {
  name: string;
  state: 'on' | 'off';
  reason: string | null;
  last_success: string | null;
  last_error: { time: string; message: string } | null;
  next_run: string | null;
  series: string[];
}

for (const mode of MODES)
  test(`GET /api/v1/sources (${mode}): a failing upstream shows as the last error naming the source; a working one its last success`, async (t) => {
    // the Carbon Intensity API's stand-in: intensity fails, the generation mix answers (no half-hours yet)
    const server = http.createServer((req, res) => {
      if (req.url?.startsWith('/intensity')) res.writeHead(503).end('down for maintenance');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const started = Date.now();
    const w = await buildMode(t, mode, {
      'carbon.url': `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      'carbon.bootstrapDays': 0,
      'sources.retries': 0,
    });
    if (!w) return;

    let sources: SourceRow[] = [];
    const byName = (name: string) => sources.find((s) => s.name === name);
    await until(
      async () => {
        const r = await w.request('/api/v1/sources');
        assert.equal(r.status, 200, JSON.stringify(r.body));
        sources = r.body.sources;
        return Boolean(byName('carbon-intensity')?.last_error && byName('generation-mix')?.last_success);
      },
      10_000,
      'the first polls to be recorded',
    );

    const carbon = byName('carbon-intensity');
    assert.equal(carbon?.state, 'on');
    assert.match(carbon?.last_error?.message ?? '', /^carbon-intensity answered 503/);
    assert.ok(Date.parse(carbon?.last_error?.time ?? '') >= started);
    assert.equal(carbon?.last_success, null);
    // the next poll is the timer's: carbon.pollMs (30 minutes) after start
    assert.ok(Date.parse(carbon?.next_run ?? '') > Date.now() + 25 * 60_000, carbon?.next_run ?? '');
    assert.deepEqual(carbon?.series, ['grid/carbon-intensity/forecast', 'grid/carbon-intensity/actual']);

    const mix = byName('generation-mix');
    assert.ok(Date.parse(mix?.last_success ?? '') >= started);
    assert.equal(mix?.last_error, null);

    // a connector its settings leave off says why, and never runs
    const tariff = byName('octopus-tariff');
    assert.equal(tariff?.state, 'off');
    assert.match(tariff?.reason ?? '', /product|tariff/i);
    assert.equal(tariff?.next_run, null);

    // reads need no more than a read key
    const key = (
      await w.request('/api/v1/keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ scope: 'read' }),
      })
    ).body.key;
    const read = await w.request('/api/v1/sources', { headers: { authorization: `Bearer ${key}` } });
    assert.equal(read.status, 200);
  });
