import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { build } from './helpers.js';

const MB = 1024 * 1024;

// The client runs in its own process, so only the server's memory is measured here. It streams
// mostly lines that are parsed and rejected (keeping the store's own memory out of the picture),
// with one good reading in every 1,000 lines, and honours backpressure.
const client = `
const http = require('node:http');
const [url, key, bytes] = process.argv.slice(1);
const bad = '{"series":"big","value":"not a number","ts":0}\\n';
let lines = 0, good = 0, sent = 0;
const req = http.request(url + '/ingest', { method: 'POST', headers: { authorization: 'Bearer ' + key, 'content-type': 'application/x-ndjson' } }, (res) => {
  let text = '';
  res.on('data', (d) => (text += d));
  res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, reply: JSON.parse(text), lines, good })));
});
function write() {
  while (sent < Number(bytes)) {
    let chunk = '';
    while (chunk.length < 1 << 20) {
      lines++;
      chunk += lines % 1000 === 0 ? '{"series":"big","value":' + ++good + ',"ts":' + good + '}\\n' : bad;
    }
    sent += chunk.length;
    if (!req.write(chunk)) return req.once('drain', write);
  }
  req.end();
}
write();
`;

test('a 200 MB body streams through without being held in memory', { timeout: 120_000 }, async (t) => {
  const w = await build(t);
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const child = spawn(process.execPath, ['-e', client, w.url, w.key, String(200 * MB)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  await new Promise((resolve) => child.on('exit', resolve));
  clearInterval(sampler);
  const { status, reply, lines, good } = JSON.parse(out) as {
    status: number;
    reply: { accepted: number; invalid: unknown[]; invalidCount: number };
    lines: number;
    good: number;
  };
  assert.equal(status, 400);
  assert.equal(reply.accepted, good);
  assert.equal(reply.invalidCount, lines - good);
  assert.equal(reply.invalid.length, 1000, 'the reply lists at most WATTLINE_INGEST_MAX_INVALID_REPORTED lines');
  // holding the body would take 200 MB as bytes and twice that again as text
  const grewMb = (peak - baseline) / MB;
  assert.ok(grewMb < 150, `the server grew by ${grewMb.toFixed(0)} MB while a 200 MB body streamed through`);
});
