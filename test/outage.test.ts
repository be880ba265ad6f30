import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { tempDir, until } from './helpers.js';
import { canRunPrivate, privateNats, privatePostgres } from './private-services.js';
import { startServe } from './serve.js';

const T0 = Date.UTC(2024, 0, 1);
const SERIES = 'outage/meter';
const LINES_PER_REQUEST = 100;
// Longer than the bus's redelivery budget below (3 deliveries: 1 s + 2 s of delays), so a bus that
// counted an outage against maxDeliver would dead-letter acknowledged readings within it.
const PG_OUTAGE_MS = 30_000;

test('server mode: PostgreSQL and NATS outages under steady ingest lose no acknowledged reading and crash nothing', {
  timeout: 180_000,
}, async (t) => {
  for (const kind of ['postgres', 'nats'] as const) {
    if (canRunPrivate(kind)) continue;
    const reason = `cannot run a private ${kind} here (binaries missing, or not root)`;
    if (process.env.REQUIRE_SERVICES === '1') throw new Error(`${reason} (REQUIRE_SERVICES=1)`);
    return t.skip(reason);
  }
  const [pg, nats] = await Promise.all([privatePostgres(t), privateNats(t)]);
  const dataDir = tempDir();
  const server = await startServe(dataDir, {
    env: { DATABASE_URL: pg.url, BUS_URL: nats.url, WATTLINE_BUS_MAX_DELIVER: '3', WATTLINE_LOG_LEVEL: 'fatal' },
  });
  t.after(async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await server.exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const auth = { authorization: `Bearer ${server.key}` };
  const get = async (pathname: string) => {
    const r = await fetch(server.url + pathname, { headers: auth });
    return { status: r.status, body: await r.json().catch(() => undefined) };
  };
  const readyStatus = async () => {
    const r = await fetch(`${server.url}/ready`).catch((err: unknown) => {
      throw new Error(`the server does not answer (process alive: ${alive()})`, { cause: err });
    });
    return r.status;
  };
  const alive = () => server.child.exitCode === null && server.child.signalCode === null;

  // a client that sends each body until it is acknowledged, as the 503s ask it to
  const statuses = new Map<number, number>();
  let next = 0;
  let acked = 0;
  let ackedSum = 0;
  let natsDown = false;
  let natsOutageAnswers: { status: number; retryAfter: string | null }[] = [];
  let stopping = false;
  const ingesting = (async () => {
    while (!stopping) {
      const from = next;
      next += LINES_PER_REQUEST;
      let body = '';
      let sum = 0;
      for (let i = from; i < from + LINES_PER_REQUEST; i++) {
        body += `${JSON.stringify({ series: SERIES, ts: T0 + i * 1000, value: i })}\n`;
        sum += i;
      }
      for (;;) {
        if (!alive()) {
          if (stopping) return; // the test is over and stopped it
          throw new Error('the server process died');
        }
        const r = await fetch(`${server.url}/ingest`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/x-ndjson' },
          body,
        }).catch(() => undefined);
        const status = r?.status ?? 0;
        await r?.arrayBuffer();
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (natsDown) natsOutageAnswers.push({ status, retryAfter: r?.headers.get('retry-after') ?? null });
        if (status === 200) {
          acked += LINES_PER_REQUEST;
          ackedSum += sum;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100)); // the client's back-off before it sends again
      }
      // a steady device-like rate (~5,000 readings/s), not a flood: the backlog of a 30 s outage then
      // drains within the wait below, so a reading still missing at the end is lost, not late
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  t.after(() => {
    stopping = true;
  });

  await until(() => acked >= 2000, 30_000, 'ingest to get going');

  // PostgreSQL goes away: ingest goes on (NATS keeps the batches), /ready says 503
  await pg.stop();
  const pgDownAt = Date.now();
  await until(async () => (await readyStatus()) === 503, 10_000, '/ready to answer 503 while PostgreSQL is down');
  const ackedBeforePgOutage = acked;
  await until(
    () => Date.now() - pgDownAt >= PG_OUTAGE_MS && acked >= ackedBeforePgOutage + 1000,
    PG_OUTAGE_MS + 20_000,
    'the PostgreSQL outage to last, with readings acknowledged during it',
  );
  assert.equal(await readyStatus(), 503);
  await pg.start();
  await until(async () => (await readyStatus()) === 200, 20_000, '/ready to answer 200 once PostgreSQL is back');

  // NATS goes away: ingest answers 503 with Retry-After, not 500
  natsOutageAnswers = [];
  natsDown = true;
  await nats.stop();
  await until(async () => (await readyStatus()) === 503, 10_000, '/ready to answer 503 while NATS is down');
  await until(() => natsOutageAnswers.some((a) => a.status === 503), 20_000, 'ingest to answer 503 while NATS is down');
  await nats.start();
  natsDown = false;
  await until(async () => (await readyStatus()) === 200, 20_000, '/ready to answer 200 once NATS is back');
  const ackedAfterOutages = acked;
  await until(() => acked >= ackedAfterOutages + 1000, 20_000, 'ingest to go on after the outages');
  stopping = true;
  await ingesting;

  assert.ok(alive(), 'the server process survived both outages');
  assert.deepEqual(
    natsOutageAnswers.filter((a) => a.status !== 200 && !(a.status === 503 && Number(a.retryAfter) > 0)),
    [],
    'while NATS was down, ingest answered 200 or 503 with Retry-After',
  );
  assert.equal(statuses.get(500), undefined, `no 500 answers (answers by status: ${JSON.stringify([...statuses])})`);

  const stored = async () => {
    const q = `/api/v1/query?series=${SERIES}&start=${T0}&end=${T0 + next * 1000}&window=1d`;
    const [count, sum] = await Promise.all([get(`${q}&agg=count`), get(`${q}&agg=sum`)]);
    const total = (r: typeof count) =>
      (r.body?.results?.[0]?.points ?? []).reduce((s: number, p: { value: number }) => s + p.value, 0);
    return { count: total(count), sum: total(sum) };
  };
  await until(async () => (await stored()).count >= acked, 30_000, 'the acknowledged readings to be stored').catch(
    () => undefined, // the assertion below says what is missing
  );
  assert.deepEqual(await stored(), { count: acked, sum: ackedSum }, 'every acknowledged reading is stored');
  assert.deepEqual((await get('/api/v1/dlq')).body, { deadLetters: [] }, 'nothing was dead-lettered');
  assert.equal(await readyStatus(), 200);
});
