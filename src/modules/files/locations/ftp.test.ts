import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { type FtpTestServer, type ReadHook, startFtpServer } from '../../../../test/files-ftp-server.js';
import { DEFAULT_LOCATION_OPTIONS, type Location, LocationError, type LocationOptions, openLocation } from './index.js';

const USER = 'meter';
const PASSWORD = 'pa:ss@w0rd/#1';

function tempDir(t: TestContext, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function put(root: string, rel: string, body: string | Buffer, mtimeMs = Date.UTC(2024, 2, 5, 12, 30, 15)): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body);
  fs.utimesSync(file, mtimeMs / 1000, mtimeMs / 1000);
}

async function serve(t: TestContext, root: string, onRead?: ReadHook): Promise<FtpTestServer> {
  const server = await startFtpServer({ root, users: { [USER]: PASSWORD }, onRead });
  t.after(() => server.stop());
  return server;
}

function open(t: TestContext, url: string, options: Partial<LocationOptions> = {}): Location {
  const location = openLocation(url, { ...DEFAULT_LOCATION_OPTIONS, timeoutMs: 5000, ...options });
  t.after(() => location.close());
  return location;
}

async function writeRandomFile(file: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const out = fs.createWriteStream(file);
  for (let written = 0; written < bytes; written += 1 << 20) {
    const chunk = randomBytes(Math.min(1 << 20, bytes - written));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(resolve));
  return hash.digest('hex');
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Passes the first `bytes` of a file, then holds the rest back until `release()` (never, unless called). */
function stallAfter(bytes: number): { hook: ReadHook; stalled: Promise<void>; release: () => void } {
  let onStall = () => {};
  const stalled = new Promise<void>((resolve) => (onStall = resolve));
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const hook: ReadHook = (_path, source: Readable) => {
    let sent = 0;
    const gate = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        sent += chunk.length;
        if (sent < bytes) return callback(null, chunk);
        onStall();
        released.then(() => callback(null, chunk));
      },
    });
    source.on('error', (err) => gate.destroy(err));
    return source.pipe(gate);
  };
  return { hook, stalled, release };
}

test('an FTP location lists matching files with sizes and times, recursing only when asked', async (t) => {
  const root = tempDir(t, 'wattline-ftp-root-');
  put(root, 'loads/B.SGL_V2', 'bbb', Date.UTC(2024, 2, 5, 12, 30, 15, 250));
  put(root, 'loads/a.sgl_v2', 'aaaa', Date.UTC(2023, 11, 31, 23, 59, 59));
  put(root, 'loads/readme.txt', 'not a load curve');
  put(root, 'loads/.in-progress.sgl_v2', 'hidden');
  put(root, 'loads/c.sgl_v2.partial', 'half');
  put(root, 'loads/2024/03/day.CSV', 'x;y\n1;2\n', Date.UTC(2024, 2, 6));
  put(root, 'loads/2024/deeper/more.sgl_v2', '12345');
  const server = await serve(t, root);

  const flat = open(t, server.url(USER, PASSWORD, '/loads'), { recursive: false });
  assert.deepEqual(await flat.list(), [
    { path: 'B.SGL_V2', size: 3, modifiedMs: Date.UTC(2024, 2, 5, 12, 30, 15, 250) },
    { path: 'a.sgl_v2', size: 4, modifiedMs: Date.UTC(2023, 11, 31, 23, 59, 59) },
  ]);

  const deep = open(t, server.url(USER, PASSWORD, '/loads/'), { recursive: true });
  assert.deepEqual(await deep.list(), [
    { path: '2024/03/day.CSV', size: 8, modifiedMs: Date.UTC(2024, 2, 6) },
    { path: '2024/deeper/more.sgl_v2', size: 5, modifiedMs: Date.UTC(2024, 2, 5, 12, 30, 15) },
    { path: 'B.SGL_V2', size: 3, modifiedMs: Date.UTC(2024, 2, 5, 12, 30, 15, 250) },
    { path: 'a.sgl_v2', size: 4, modifiedMs: Date.UTC(2023, 11, 31, 23, 59, 59) },
  ]);

  const csvOnly = open(t, server.url(USER, PASSWORD, '/'), { recursive: true, patterns: ['*.csv', 'READ??.TXT'] });
  assert.deepEqual(
    (await csvOnly.list()).map((file) => file.path),
    ['loads/2024/03/day.CSV', 'loads/readme.txt'],
  );
});

test('an FTP download is byte-exact and leaves no .partial behind', async (t) => {
  const root = tempDir(t, 'wattline-ftp-root-');
  const body = randomBytes(300_000);
  put(root, 'loads/2024/curve.sgl_v2', body);
  const server = await serve(t, root);
  const location = open(t, server.url(USER, PASSWORD, '/loads'), { recursive: true });
  const [file] = await location.list();
  const to = path.join(tempDir(t, 'wattline-inbox-'), 'curve.sgl_v2');
  await location.download(file, to);
  assert.ok(fs.readFileSync(to).equals(body));
  assert.deepEqual(fs.readdirSync(path.dirname(to)), ['curve.sgl_v2']);
});

test('a 20 MB file streams to disk without being held in memory', async (t) => {
  const root = tempDir(t, 'wattline-ftp-root-');
  fs.mkdirSync(path.join(root, 'loads'));
  const expected = await writeRandomFile(path.join(root, 'loads/big.sgl_v2'), 20 * 1024 * 1024);
  const server = await serve(t, root);
  const location = open(t, server.url(USER, PASSWORD, '/loads'));
  const [file] = await location.list();
  assert.equal(file.size, 20 * 1024 * 1024);

  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const to = path.join(tempDir(t, 'wattline-inbox-'), 'big.sgl_v2');
  try {
    await location.download(file, to);
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  assert.equal(sha256(to), expected);
  const growthMb = (peak - baseline) / 1024 / 1024;
  assert.ok(growthMb < 30, `RSS grew by ${growthMb.toFixed(1)} MB while downloading 20 MB`);
});

test('a wrong password is an auth problem whose message shows the location but never the password', async (t) => {
  const root = tempDir(t, 'wattline-ftp-root-');
  put(root, 'loads/a.sgl_v2', 'a');
  const server = await serve(t, root);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.after(() => process.removeListener('unhandledRejection', onUnhandled));

  const wrong = 'Wr0ng-Secret!';
  const location = open(t, server.url(USER, wrong, '/loads'));
  await assert.rejects(location.list(), (err: LocationError) => {
    assert.ok(err instanceof LocationError);
    assert.equal(err.problem, 'auth');
    assert.equal(
      err.message.startsWith(`ftp://meter:***@127.0.0.1:${server.port}/loads: login refused (530`),
      true,
      err.message,
    );
    assert.ok(!err.message.includes(wrong) && !err.message.includes(encodeURIComponent(wrong)), err.message);
    return true;
  });
  assert.equal(location.display, `ftp://meter:***@127.0.0.1:${server.port}/loads`);
  // the failed session must not surface later as an unhandled rejection
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(unhandled, []);
});

test('a port nobody listens on is unreachable', async (t) => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const location = open(t, `ftp://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/loads`);
  await assert.rejects(location.list(), (err: LocationError) => {
    assert.equal(err.problem, 'unreachable');
    assert.match(err.message, new RegExp(`^ftp://meter:\\*\\*\\*@127\\.0\\.0\\.1:${port}/loads: .*ECONNREFUSED`));
    return true;
  });
});

test('a missing remote folder is not_found and the message names it', async (t) => {
  const root = tempDir(t, 'wattline-ftp-root-');
  put(root, 'loads/a.sgl_v2', 'a');
  const server = await serve(t, root);
  const location = open(t, server.url(USER, PASSWORD, '/curves/2024'));
  await assert.rejects(location.list(), (err: LocationError) => {
    assert.equal(err.problem, 'not_found');
    assert.match(err.message, /remote folder \/curves\/2024 not found \(550/);
    return true;
  });
  // the same session still works for a folder that exists
  put(root, 'curves/2024/b.csv', 'b');
  assert.deepEqual(
    (await location.list()).map((file) => file.path),
    ['b.csv'],
  );
});

test('a connection cut mid-download rejects, leaves no file, and the next download reconnects', async (t) => {
  const root = tempDir(t, 'wattline-ftp-root-');
  fs.mkdirSync(path.join(root, 'loads'));
  const expected = await writeRandomFile(path.join(root, 'loads/big.sgl_v2'), 8 * 1024 * 1024);
  const { hook, stalled } = stallAfter(2 * 1024 * 1024);
  const first = await startFtpServer({ root, users: { [USER]: PASSWORD }, onRead: hook });
  let firstStopped = false;
  t.after(() => (firstStopped ? undefined : first.stop()));
  const location = open(t, first.url(USER, PASSWORD, '/loads'));
  const [file] = await location.list();
  const inbox = tempDir(t, 'wattline-inbox-');
  const to = path.join(inbox, 'big.sgl_v2');

  const download = location.download(file, to);
  download.catch(() => {}); // asserted below, after the server is gone
  await stalled;
  await first.stop();
  firstStopped = true;
  await assert.rejects(download, (err: LocationError) => {
    assert.ok(err instanceof LocationError);
    assert.equal(err.problem, 'unreachable');
    assert.ok(err.message.startsWith(`ftp://meter:***@127.0.0.1:${first.port}/loads: `), err.message);
    return true;
  });
  assert.deepEqual(fs.readdirSync(inbox), []);

  // the server comes back on the same port; the location opens a new session by itself
  const again = await startFtpServer({ root, users: { [USER]: PASSWORD }, port: first.port });
  t.after(() => again.stop());
  await location.download(file, to);
  assert.equal(sha256(to), expected);
  assert.deepEqual(fs.readdirSync(inbox), ['big.sgl_v2']);
});

test('a server that stops sending is a timeout after timeoutMs, with nothing left at toPath', async (t) => {
  const root = tempDir(t, 'wattline-ftp-root-');
  put(root, 'loads/slow.sgl_v2', randomBytes(1024 * 1024));
  const { hook, release } = stallAfter(64 * 1024);
  t.after(release);
  const server = await serve(t, root, hook);
  const location = open(t, server.url(USER, PASSWORD, '/loads'), { timeoutMs: 300 });
  const [file] = await location.list();
  const inbox = tempDir(t, 'wattline-inbox-');
  await assert.rejects(location.download(file, path.join(inbox, 'slow.sgl_v2')), (err: LocationError) => {
    assert.equal(err.problem, 'timeout');
    assert.match(err.message, /no answer within 300 ms/);
    return true;
  });
  assert.deepEqual(fs.readdirSync(inbox), []);
});

test('ftps:// speaks explicit TLS; a self-signed certificate needs ?insecure=1', async (t) => {
  const certs = tempDir(t, 'wattline-ftps-cert-');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      'key.pem',
      '-out',
      'cert.pem',
    ],
    { cwd: certs, encoding: 'utf8', input: '' },
  );
  if (made.error || made.status !== 0) return t.skip('openssl is needed to make a self-signed certificate');
  const root = tempDir(t, 'wattline-ftp-root-');
  put(root, 'loads/a.sgl_v2', 'secret load curve');
  const server = await startFtpServer({
    root,
    users: { [USER]: PASSWORD },
    tls: {
      key: fs.readFileSync(path.join(certs, 'key.pem'), 'utf8'),
      cert: fs.readFileSync(path.join(certs, 'cert.pem'), 'utf8'),
    },
  });
  t.after(() => server.stop());

  const strict = open(t, server.url(USER, PASSWORD, '/loads'));
  await assert.rejects(strict.list(), (err: LocationError) => {
    assert.equal(err.problem, 'protocol');
    assert.match(err.message, /TLS failed \(self-signed certificate\); add \?insecure=1/);
    return true;
  });

  const lax = open(t, `${server.url(USER, PASSWORD, '/loads')}?insecure=1`);
  const [file] = await lax.list();
  const to = path.join(tempDir(t, 'wattline-inbox-'), 'a.sgl_v2');
  await lax.download(file, to);
  assert.equal(fs.readFileSync(to, 'utf8'), 'secret load curve');
});
