import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build, rawConnection } from './helpers.js';

test('a body that stops arriving is cut with 408 in the usual error shape, and the connection is closed', async (t) => {
  const w = await build(t, { 'http.bodyTimeoutMs': 300 });
  const c = rawConnection(w.url);
  c.socket.write('POST /log/parse HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nabc');
  await c.closedByServer();
  assert.equal(c.status(), 408);
  assert.equal(c.body().code, 'request_timeout');
  assert.match(c.body().error, /arrived too slowly/);
});

test('a body trickling a few bytes a second is cut although bytes keep coming', async (t) => {
  const w = await build(t, { 'http.bodyTimeoutMs': 300, 'http.bodyMinBytesPerSecond': 1000 });
  const c = rawConnection(w.url);
  c.socket.write('POST /log/parse HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n');
  const trickle = setInterval(() => c.socket.writable && c.socket.write('a'), 20);
  t.after(() => clearInterval(trickle));
  await c.closedByServer();
  assert.equal(c.status(), 408);
});

test('a write without a key is refused before its body is read, and the connection is closed', async (t) => {
  const w = await build(t);
  const c = rawConnection(w.url);
  // a body that would take hours at this pace: only its first bytes are ever sent
  c.socket.write('POST /log/store HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\nab');
  await c.closedByServer();
  assert.equal(c.status(), 401);
});

test('headers that stop arriving get 408 in the usual error shape', async (t) => {
  const w = await build(t, { 'http.headersTimeoutMs': 1000 });
  const c = rawConnection(w.url);
  c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  await c.closedByServer();
  assert.equal(c.status(), 408);
  assert.deepEqual(c.body(), { error: 'the request headers arrived too slowly', code: 'request_timeout' });
});

test('headers over the size limit get 431 in the usual error shape', async (t) => {
  const w = await build(t);
  const c = rawConnection(w.url);
  c.socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
  await c.closedByServer();
  assert.equal(c.status(), 431);
  assert.deepEqual(c.body(), { error: 'the request headers are too large', code: 'headers_too_large' });
});
