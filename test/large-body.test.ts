import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build, until } from './helpers.js';

const MB = 1024 * 1024;
const BAD_LINE = '{"series":"big","value":"not a number","ts":0}\n';

// How much memory such a body costs the server is measured by `npm run bench -- --only large-body`,
// not here: a memory ceiling depends on the machine.
test('a 200 MB body is parsed as it arrives: its first readings are stored before its end is sent', {
  timeout: 120_000,
}, async (t) => {
  // batches of 1,000 rows, so the first half of the body (about 2,100 good lines) fills some
  const w = await build(t, { 'ingest.batchSize': 1000 });
  const storedBig = async () => {
    const { series } = (await w.request('/api/v1/series')).body as { series: { key: string; count: number }[] };
    return series.find((s) => s.key === 'big')?.count ?? 0;
  };

  // mostly lines that are parsed and rejected, with one good reading in every 1,000 lines
  let lines = 0;
  let good = 0;
  let sent = 0;
  let storedMidway = 0;
  let waitFailed: unknown;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= 200 * MB) return controller.close();
      if (sent >= 100 * MB && !storedMidway) {
        // the second half waits until readings from the first are stored: a server that held the
        // whole body before parsing it would never store them, and this wait would time out
        try {
          await until(async () => (storedMidway = await storedBig()) > 0, 60_000, 'readings from the first half');
        } catch (err) {
          waitFailed = err;
          return controller.error(err);
        }
      }
      let chunk = '';
      while (chunk.length < MB) {
        lines++;
        chunk +=
          lines % 1000 === 0 ? `{"series":"big","value":${++good},"ts":${Date.UTC(2024, 0, 1) + good}}\n` : BAD_LINE;
      }
      sent += chunk.length;
      controller.enqueue(new TextEncoder().encode(chunk));
    },
  });
  const r = await w
    .request('/ingest', {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
      duplex: 'half', // a streamed body; Node 20's RequestInit type does not know the option yet
    } as RequestInit)
    .catch((err) => {
      throw waitFailed ?? err;
    });

  assert.ok(storedMidway > 0 && storedMidway < good, `${storedMidway} of ${good} readings stored midway`);
  assert.equal(r.status, 400);
  assert.equal(r.body.accepted, good);
  assert.equal(r.body.invalidCount, lines - good);
  assert.equal(r.body.invalid.length, 1000, 'the reply lists at most WATTLINE_INGEST_MAX_INVALID_REPORTED lines');
  assert.deepEqual(r.body.invalid[0], { line: 1, error: 'value is not a finite number' });
  // every good line is stored once the answer is in
  assert.equal(await storedBig(), good);
});
