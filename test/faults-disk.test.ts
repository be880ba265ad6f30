import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir, until } from './helpers.js';
import { startServe } from './serve.js';

const T0 = Date.UTC(2024, 0, 1);
const LINES_PER_REQUEST = 2000;
const SERIES = 8;

/** Mounts a tmpfs of `size` at `dir` (root only); undefined with the reason when that is not possible here. */
function mountSmallDisk(dir: string, size: string): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a small tmpfs needs root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `mount -t tmpfs failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
}

test('the data disk full: ingest answers 503 with Retry-After, /ready reports it, nothing acknowledged is lost, and it recovers without a restart', {
  timeout: 180_000,
}, async (t) => {
  const mountPoint = tempDir('wattline-small-disk-');
  const refused = mountSmallDisk(mountPoint, '16m');
  if (refused) {
    fs.rmSync(mountPoint, { recursive: true, force: true });
    return t.skip(refused);
  }
  t.after(() => {
    execFileSync('umount', ['-l', mountPoint]);
    fs.rmSync(mountPoint, { recursive: true, force: true });
  });
  const server = await startServe(path.join(mountPoint, 'data'), { env: { WATTLINE_LOG_LEVEL: 'fatal' } });
  t.after(async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await server.exited;
  });
  const alive = () => server.child.exitCode === null && server.child.signalCode === null;
  const auth = { authorization: `Bearer ${server.key}` };
  const ready = async () => {
    const r = await fetch(`${server.url}/ready`);
    return { status: r.status, body: (await r.json()) as { store: string } };
  };

  // a client that sends each body until it is acknowledged, as the 503s ask it to
  const answers = new Map<string, number>();
  let next = 0;
  let acked = 0;
  let ackedSum = 0;
  let fullAnswer: { status: number; retryAfter: string | null; body: unknown } | undefined;
  let stopping = false;
  const ingesting = (async () => {
    while (!stopping) {
      const from = next;
      next += LINES_PER_REQUEST;
      let body = '';
      let sum = 0;
      for (let i = from; i < from + LINES_PER_REQUEST; i++) {
        // values that do not compress away, so the disk fills within seconds
        const value = (i * 7919) % 100_003;
        body += `${JSON.stringify({ series: `disk/meter-${i % SERIES}`, ts: T0 + i * 1000, value })}\n`;
        sum += value;
      }
      for (;;) {
        if (!alive()) throw new Error('the server process died');
        const r = await fetch(`${server.url}/ingest`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/x-ndjson' },
          body,
        });
        const reply = (await r.json()) as { code?: string };
        answers.set(
          `${r.status} ${reply.code ?? ''}`.trim(),
          (answers.get(`${r.status} ${reply.code ?? ''}`.trim()) ?? 0) + 1,
        );
        if (r.status === 200) {
          acked += LINES_PER_REQUEST;
          ackedSum += sum;
          break;
        }
        if (r.status === 503 && reply.code === 'store_disk_full')
          fullAnswer ??= { status: r.status, retryAfter: r.headers.get('retry-after'), body: reply };
        if (stopping) return;
        await new Promise((resolve) => setTimeout(resolve, 200)); // the client's back-off before it sends again
      }
    }
  })();

  await until(() => fullAnswer !== undefined, 120_000, 'the disk to fill');
  assert.deepEqual(fullAnswer, {
    status: 503,
    retryAfter: '10',
    body: { error: "the store's disk is full; retry once space is freed", code: 'store_disk_full' },
  });
  assert.deepEqual(await ready(), { status: 503, body: { status: 'not ready', store: 'unavailable', bus: 'ok' } });
  const ackedWhileFull = acked;

  // the operator makes room: the same process takes writes again, and /ready says so
  execFileSync('mount', ['-o', 'remount,size=256m', mountPoint]);
  await until(async () => (await ready()).status === 200, 20_000, '/ready to answer 200 once there is room');
  await until(() => acked >= ackedWhileFull + 5 * LINES_PER_REQUEST, 60_000, 'ingest to go on after space was freed');
  stopping = true;
  await ingesting;

  assert.ok(alive(), 'the server process survived the full disk');
  assert.deepEqual(
    [...answers.keys()].filter((k) => k !== '200' && k !== '503 store_disk_full'),
    [],
    `only 200 and 503 store_disk_full answers: ${JSON.stringify([...answers])}`,
  );
  const q = `/api/v1/query?series=${Array.from({ length: SERIES }, (_, s) => `disk/meter-${s}`).join(',')}&start=${T0}&end=${T0 + next * 1000}&window=1d`;
  const total = async (agg: string) => {
    const r = await fetch(`${server.url}${q}&agg=${agg}`, { headers: auth });
    const body = (await r.json()) as { results: { points: { value: number | null }[] }[] };
    return body.results.flatMap((s) => s.points).reduce((a, p) => a + (p.value ?? 0), 0);
  };
  assert.deepEqual({ count: await total('count'), sum: await total('sum') }, { count: acked, sum: ackedSum });
});
