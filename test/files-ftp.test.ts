import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { test } from 'node:test';
import { sglFile } from './files-fixtures.js';
import { startFtpServer } from './files-ftp-server.js';
import { build, sendJson, tempDir } from './helpers.js';

const USER = 'meter';
const PASSWORD = 's3cret!pw';
const DAY = '20240115';

/** Cuts the first download of each file after `bytes`: the connection drops mid-file. */
function cutFirstDownload(bytes: number) {
  const cut = new Set<string>();
  return (file: string, stream: Readable): Readable => {
    if (cut.has(file)) return stream;
    cut.add(file);
    const out = new PassThrough();
    let sent = 0;
    stream.on('data', (chunk: Buffer) => {
      if (sent >= bytes) return;
      out.write(chunk.subarray(0, bytes - sent));
      sent += chunk.length;
      if (sent >= bytes) out.destroy(new Error('connection cut'));
    });
    return out;
  };
}

test('FTP load curves: ingested from a real server, a cut download retried, wrong credentials reported without the password while other locations work', async (t) => {
  const root = tempDir('wattline-ftp-root-');
  const folder = tempDir('wattline-drops-');
  t.after(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(folder, { recursive: true, force: true });
  });
  fs.mkdirSync(path.join(root, 'curves'));
  fs.writeFileSync(
    path.join(root, 'curves', 'PT01.sgl_v2'),
    sglFile({ meterPoint: 'PT0002000011111111AA', day: DAY, kwh: (i) => i / 100 }),
    'latin1',
  );
  fs.writeFileSync(
    path.join(folder, 'local.sgl_v2'),
    sglFile({ meterPoint: 'PT0002000022222222BB', day: DAY, kwh: () => 1 }),
    'latin1',
  );
  const server = await startFtpServer({ root, users: { [USER]: PASSWORD }, onRead: cutFirstDownload(3_000) });
  t.after(() => server.stop());
  const w = await build(t, {
    'files.locations': [
      { url: server.url(USER, PASSWORD, '/curves'), name: 'utility', skip_initial_scan: true },
      { url: server.url(USER, 'wrong', '/curves'), name: 'misconfigured', skip_initial_scan: true },
      { url: `file://${folder}`, name: 'local', skip_initial_scan: true },
    ],
    'files.settleMs': 0,
    'files.timeoutMs': 5_000,
  });

  const first = (await sendJson(w, 'POST', '/api/v1/ingestion/trigger', {})).scans;
  const byName = new Map(first.map((s: { location: string }) => [s.location, s]));
  // the cut download: nothing stored, pending with the reason, retried on the next scan
  const utility = byName.get('utility') as { pending: { path: string; reason: string }[]; ingested: unknown[] };
  assert.deepEqual(utility.ingested, []);
  assert.equal(utility.pending[0]?.path, 'PT01.sgl_v2', JSON.stringify(utility));
  const misconfigured = byName.get('misconfigured') as { error: string };
  assert.match(misconfigured.error, /login|530|refused/i);
  assert.ok(!misconfigured.error.includes('wrong'), misconfigured.error);
  // the other locations keep working
  assert.equal((byName.get('local') as { ingested: unknown[] }).ingested.length, 1);

  const second = (await sendJson(w, 'POST', '/api/v1/ingestion/trigger', { location: 'utility' })).scans[0];
  assert.deepEqual(second.ingested, [{ path: 'PT01.sgl_v2', readings: 96, replaced: false }]);
  const start = Date.UTC(2024, 0, 15);
  const q = await w.request(
    `/api/v1/query?series=files/PT0002000011111111AA&start=${start}&end=${start + 86_399_999}&window=1d&agg=sum`,
  );
  assert.ok(Math.abs(q.body.results[0].points[0].value - (95 * 96) / 2 / 100) < 1e-9, JSON.stringify(q.body));

  // passwords appear nowhere the API answers
  const status = await w.request('/api/v1/ingestion/status');
  const files = await w.request('/api/v1/ingestion/files');
  for (const text of [JSON.stringify(status.body), JSON.stringify(files.body), JSON.stringify(first)]) {
    assert.ok(!text.includes(PASSWORD) && !text.includes(encodeURIComponent(PASSWORD)), text);
  }
  const misconfiguredState = status.body.locations.find((l: { name: string }) => l.name === 'misconfigured');
  assert.match(misconfiguredState.last_error, /login|530|refused/i);
  assert.equal(misconfiguredState.last_success, null);
  assert.match(misconfiguredState.url, /^ftp:\/\/meter:\*\*\*@127\.0\.0\.1:\d+\/curves$/);
  // /ready lists each location: the one refusing the login away (without the password), the rest ok
  const ready = await w.request('/ready');
  assert.equal(ready.status, 200);
  const connections = ready.body.connections as Record<string, { status: string; error?: string }>;
  assert.equal(connections['files:misconfigured'].status, 'unavailable');
  assert.match(connections['files:misconfigured'].error ?? '', /login|530|refused/i);
  assert.equal(connections['files:utility'].status, 'ok');
  assert.ok(!JSON.stringify(ready.body).includes(PASSWORD));
  assert.equal(
    (
      await w.request('/api/v1/ingestion/trigger', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"location":"nowhere"}',
      })
    ).status,
    404,
  );
});
