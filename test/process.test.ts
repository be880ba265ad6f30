import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { tempDir, until } from './helpers.js';
import { startServe, type ServeProcess } from './serve.js';

const T0 = Date.UTC(2024, 0, 1);

type Server = ServeProcess & { key: string };

async function startServer(dataDir: string): Promise<Server> {
  return (await startServe(dataDir)) as Server;
}

function body(batch: number, rows: number): string {
  let text = '';
  for (let i = 0; i < rows; i++)
    text += `{"series":"k/${i % 10}","value":${batch * rows + i},"ts":${T0 + (batch * rows + i) * 1000}}\n`;
  return text;
}

async function post(server: Server, text: string | ReadableStream<Uint8Array>) {
  const r = await fetch(`${server.url}/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/x-ndjson' },
    body: text,
    // a streamed body needs half-duplex; Node 20's RequestInit type does not know the option yet
    ...(typeof text === 'string' ? {} : { duplex: 'half' }),
  } as RequestInit);
  return { status: r.status, body: (await r.json()) as { accepted: number } };
}

/** Whether a new TCP connection to the server's HTTP port is accepted. */
function acceptsConnections(server: Server): Promise<boolean> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `persist_rows_total` from the server's /metrics: rows committed to the store so far. */
async function persistedRows(server: Server): Promise<number> {
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^persist_rows_total (\d+)$/m.exec(metrics)?.[1] ?? 0);
}

async function totalCount(server: Server): Promise<number> {
  const series = Array.from({ length: 10 }, (_, i) => `k/${i}`).join(',');
  const r = await fetch(
    `${server.url}/api/v1/query?series=${series}&start=${T0}&end=${T0 + 86_400_000 * 30}&window=1d&agg=count`,
  );
  const reply = (await r.json()) as { results: { points: { value: number }[] }[] };
  return reply.results.flatMap((s) => s.points).reduce((a, p) => a + p.value, 0);
}

test('every acknowledged reading survives SIGKILL and is there after a restart', { timeout: 120_000 }, async (t) => {
  const dataDir = tempDir();
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const first = await startServer(dataDir);
  const rows = 2000;
  const acknowledged = new Set<number>();
  let batch = 0;
  // two concurrent senders; the kill lands while requests are in flight
  const sender = async () => {
    for (;;) {
      const mine = batch++;
      try {
        const r = await post(first, body(mine, rows));
        if (r.status === 200) acknowledged.add(mine);
      } catch {
        return; // connection dropped by the kill
      }
    }
  };
  const senders = [sender(), sender()];
  await until(() => acknowledged.size >= 30, 60_000, '30 acknowledged requests');
  first.child.kill('SIGKILL');
  await Promise.all(senders);
  await first.exited;

  const second = await startServer(dataDir);
  t.after(() => second.child.kill('SIGKILL'));
  const stored = await totalCount(second);
  assert.ok(stored >= acknowledged.size * rows, `stored ${stored} < acknowledged ${acknowledged.size * rows}`);
  // the catalog, whose stats are saved only now and then, was rebuilt to match what is stored
  const catalog = (await (await fetch(`${second.url}/api/v1/series`)).json()) as { series: { count: number }[] };
  assert.equal(
    catalog.series.reduce((a, s) => a + s.count, 0),
    stored,
  );
  // each acknowledged batch is there whole: check its first and last reading
  for (const b of acknowledged) {
    for (const i of [0, rows - 1]) {
      const n = b * rows + i;
      const r = await fetch(
        `${second.url}/api/v1/query?series=k/${i % 10}&start=${T0 + n * 1000}&end=${T0 + n * 1000}`,
      );
      const reply = (await r.json()) as { results: { points: { value: number }[] }[] };
      assert.deepEqual(
        reply.results[0].points.map((p) => p.value),
        [n],
        `batch ${b} row ${i}`,
      );
    }
  }
});

test('SIGTERM finishes in-flight requests and their batches before the process exits', {
  timeout: 120_000,
}, async (t) => {
  const dataDir = tempDir();
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const server = await startServer(dataDir);
  // The body is sent in two halves, the second held back until the server has committed readings
  // from the first: SIGTERM then lands while the request is certainly in flight, its body half read.
  let sendSecondHalf!: () => void;
  const secondHalfReleased = new Promise<void>((resolve) => (sendSecondHalf = resolve));
  const halves = [body(0, 100_000), body(1, 100_000)]; // together the same rows as body(0, 200_000)
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === halves.length) return controller.close();
      if (sent === 1) await secondHalfReleased;
      controller.enqueue(new TextEncoder().encode(halves[sent++]));
    },
  });
  const inFlight = post(server, stream);
  await until(async () => (await persistedRows(server)) > 0, 60_000, 'readings from the first half committed');
  server.child.kill('SIGTERM');
  // the shutdown has begun (the server no longer listens) before the rest of the body is sent
  await until(async () => !(await acceptsConnections(server)), 30_000, 'the server to stop listening');
  sendSecondHalf();
  const reply = await inFlight;
  assert.deepEqual(reply, { status: 200, body: { accepted: 200_000 } });
  assert.equal(await server.exited, 0);
  const again = await startServer(dataDir);
  t.after(() => again.child.kill('SIGKILL'));
  assert.equal(await totalCount(again), 200_000);
});
