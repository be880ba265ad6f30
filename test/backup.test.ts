import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { wattline } from './cli-helpers.js';
import { build, buildMode, tempDir, type TestApp } from './helpers.js';
import { BUCKET, s3rver } from './s3.js';

const T0 = Date.UTC(2024, 0, 1);
const MINUTE = 60_000;
const SERIES = ['meter-a', 'meter-b', 'meter-c'];

/** Per series: how many readings and their sum, as the query API answers them. */
async function countsAndSums(w: TestApp, keys: readonly string[]) {
  const range = `start=${T0 - 86_400_000}&end=${T0 + 30 * 86_400_000}&window=1d`;
  const out: Record<string, { count: number; sum: number }> = {};
  for (const agg of ['count', 'sum'] as const) {
    const r = await w.request(`/api/v1/query?series=${keys.join(',')}&${range}&agg=${agg}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    for (const result of (r.body as { results: { series: string; points: { value: number | null }[] }[] }).results) {
      out[result.series] ??= { count: 0, sum: 0 };
      out[result.series][agg] = result.points.reduce((a, p) => a + (p.value ?? 0), 0);
    }
  }
  return out;
}

test('wattline backup copies the store while readings arrive, and wattline restore brings back every series’ count and sum', {
  timeout: 120_000,
}, async (t) => {
  const w = await build(t);
  // three meters of 2,000 readings each, values that make a sum tell a lost or doubled reading
  for (const [s, series] of SERIES.entries()) {
    const lines = Array.from({ length: 2000 }, (_, i) => ({ series, ts: T0 + i * MINUTE, value: s * 1000 + i * 0.25 }));
    assert.equal((await w.ingest(lines)).status, 200);
  }
  const before = await countsAndSums(w, SERIES);
  assert.equal(before['meter-a'].count, 2000);

  // readings keep arriving during the backup, 100 a request: the copy holds whole requests only
  let writing = true;
  let sent = 0;
  const writer = (async () => {
    while (writing) {
      const lines = Array.from({ length: 100 }, (_, i) => ({ series: 'live', ts: T0 + (sent + i) * MINUTE, value: 1 }));
      assert.equal((await w.ingest(lines)).status, 200);
      sent += 100;
    }
  })();
  const backups = tempDir('wattline-backups-');
  t.after(() => fs.rmSync(backups, { recursive: true, force: true }));
  const backedUp = await wattline(['backup', backups, '--url', w.url, '--key', w.key]);
  writing = false;
  await writer;
  assert.equal(backedUp.code, 0, backedUp.stderr);
  const [name] = fs.readdirSync(backups);
  assert.match(name, /^wattline-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.duckdb$/);
  assert.match(backedUp.stdout, new RegExp(`${name}  \\d+ bytes`));
  assert.deepEqual(fs.readdirSync(path.join(w.dataDir, 'backup-tmp')), [], 'the server kept no copy');

  // restored into an empty data dir, a server started on it answers as the original did
  const restored = tempDir('wattline-restored-');
  const restore = await wattline(['restore', backups, '--data-dir', restored]);
  assert.equal(restore.code, 0, restore.stderr);
  assert.match(restore.stdout, new RegExp(`^restored ${name} into ${restored}: 4 series, \\d+ readings`));
  const again = await build(t, {}, restored);
  assert.deepEqual(await countsAndSums(again, SERIES), before);
  const live = (await countsAndSums(again, ['live'])).live;
  assert.ok(live.count > 0 && live.count <= sent, `${live.count} of ${sent} live readings`);
  assert.equal(live.count % 100, 0, 'no request is in the copy in part');
  assert.equal(live.sum, live.count);

  // a data dir that holds a store is never overwritten; a folder without backups says so
  const refused = await wattline(['restore', backups, '--data-dir', restored]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /already holds a store \(wattline\.duckdb\): restore fills an empty data dir/);
  const empty = tempDir('wattline-no-backups-');
  t.after(() => fs.rmSync(empty, { recursive: true, force: true }));
  const none = await wattline(['restore', empty, '--data-dir', path.join(empty, 'data')]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no backup \(wattline-\*\.duckdb\) in file:\/\//);
  assert.equal(fs.existsSync(path.join(empty, 'data', 'wattline.duckdb')), false);
});

test('a file that is not a backup is refused and leaves the data dir empty', async (t) => {
  const backups = tempDir('wattline-backups-');
  t.after(() => fs.rmSync(backups, { recursive: true, force: true }));
  fs.writeFileSync(path.join(backups, 'wattline-2024-01-01T00-00-00.000Z.duckdb'), 'not a database');
  const dataDir = path.join(backups, 'data');
  const r = await wattline(['restore', backups, '--data-dir', dataDir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not a Wattline backup/);
  assert.deepEqual(fs.readdirSync(dataDir), []);
});

test('backups need an admin key, and PostgreSQL mode answers 409 pointing at pg_dump', async (t) => {
  const w = await buildMode(t, 'postgres');
  if (!w) return;
  const r = await w.request('/api/v1/backup');
  assert.equal(r.status, 409);
  assert.deepEqual(r.body, {
    error: 'this server stores readings in PostgreSQL: back it up with pg_dump or base backups (see the README)',
    code: 'backup_not_supported',
  });
  const created = await w.request('/api/v1/keys', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scope: 'write' }),
  });
  const writeKey = (created.body as { key: string }).key;
  const denied = await w.request('/api/v1/backup', { headers: { authorization: `Bearer ${writeKey}` } });
  assert.equal(denied.status, 403);
});

test('a backup to s3://bucket/prefix restores from there, with the keys from the environment', async (t) => {
  const s3 = await s3rver(t);
  const w = await build(t);
  const lines = Array.from({ length: 500 }, (_, i) => ({ series: 'meter-s3', ts: T0 + i * MINUTE, value: i }));
  assert.equal((await w.ingest(lines)).status, 200);
  const env = {
    WATTLINE_S3_ENDPOINT: s3.s3.endpoint,
    WATTLINE_S3_ACCESS_KEY_ID: s3.s3.accessKeyId,
    WATTLINE_S3_SECRET_ACCESS_KEY: s3.s3.secretAccessKey,
  };
  const target = `s3://${BUCKET}/fleet/backups`;
  const backedUp = await wattline(['backup', target, '--url', w.url, '--key', w.key], { env });
  assert.equal(backedUp.code, 0, backedUp.stderr);
  const [name] = await s3.open(target).list();
  assert.match(backedUp.stdout, new RegExp(`^${target}/${name.replaceAll('.', '\\.')}  \\d+ bytes`));
  const restored = tempDir('wattline-restored-');
  const restore = await wattline(['restore', target, '--data-dir', restored], { env });
  assert.equal(restore.code, 0, restore.stderr);
  const again = await build(t, {}, restored);
  assert.deepEqual(await countsAndSums(again, ['meter-s3']), { 'meter-s3': { count: 500, sum: (499 * 500) / 2 } });
});
