import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { STACK_LINE, wattline } from './cli-helpers.js';
import { build, tempDir } from './helpers.js';
import { startServe } from './serve.js';

/** The settings a `wattline serve` of a test needs: its own data dir, free ports, no outside calls. */
const serveEnv = (dataDir: string, env: Record<string, string> = {}) => ({
  WATTLINE_DATA_DIR: dataDir,
  WATTLINE_HTTP_PORT: '0',
  WATTLINE_GRPC_PORT: '0',
  WATTLINE_LOG_LEVEL: 'warn',
  WATTLINE_CARBON_URL: '',
  ...env,
});

function ownedDir(t: TestContext) {
  const dir = tempDir('wattline-cli-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A port something listens on for the rest of the test. */
async function takenPort(t: TestContext): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

/** Asserts the run failed with exit code 1 and printed just `line` on stderr, no stack trace. */
function failedWith(run: { code: number | null; stderr: string }, line: RegExp) {
  assert.equal(run.code, 1, run.stderr);
  assert.doesNotMatch(run.stderr, STACK_LINE, 'no stack trace');
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.match(run.stderr.trim(), line);
}

test('wattline --version prints the version in package.json', async () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8'));
  const run = await wattline(['--version']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), version);
});

test('ingest of a missing file says which file, in one line', { timeout: 60_000 }, async (t) => {
  const dir = ownedDir(t);
  const run = await wattline(['ingest', 'nothing-here.csv', '--url', 'http://127.0.0.1:9', '--key', 'k'], { cwd: dir });
  failedWith(run, new RegExp(`^wattline: no such file: ${path.join(dir, 'nothing-here.csv')}`));
});

test('a command needing a key, run where there is none, says where it looked', { timeout: 60_000 }, async (t) => {
  const w = await build(t);
  const dir = ownedDir(t);
  const run = await wattline(['keys', 'ls', '--url', w.url], { cwd: dir });
  failedWith(
    run,
    new RegExp(`^wattline: no API key: set WATTLINE_API_KEY or --key; looked in ${path.join(dir, 'data', 'api-key')}$`),
  );
});

test('a second serve on the same data dir names the process holding it and the setting to change', {
  timeout: 60_000,
}, async (t) => {
  const dataDir = ownedDir(t);
  const first = await startServe(dataDir);
  t.after(async () => {
    first.child.kill('SIGTERM');
    await first.exited;
  });
  const run = await wattline(['serve'], { env: serveEnv(dataDir) });
  failedWith(
    run,
    new RegExp(
      `^wattline: the data dir ${dataDir} is in use by another process \\(PID ${first.child.pid}\\b.*WATTLINE_DATA_DIR`,
    ),
  );
});

test('serve on an HTTP or gRPC port in use names the port and the setting that changes it', {
  timeout: 60_000,
}, async (t) => {
  const port = await takenPort(t);
  const httpRun = await wattline(['serve'], { env: serveEnv(ownedDir(t), { WATTLINE_HTTP_PORT: String(port) }) });
  failedWith(httpRun, new RegExp(`^wattline: HTTP port ${port} is in use .*WATTLINE_HTTP_PORT`));
  const grpcRun = await wattline(['serve'], { env: serveEnv(ownedDir(t), { WATTLINE_GRPC_PORT: String(port) }) });
  failedWith(grpcRun, new RegExp(`^wattline: gRPC port ${port} is in use .*WATTLINE_GRPC_PORT`));
});
