import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { tempDir, until } from './helpers.js';
import { BUCKET, s3rver } from './s3.js';

const root = path.join(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'wattline.js');

/**
 * A module hook that says on stderr when anything of the AWS SDK is loaded: passed with `--import`, so
 * the test sees what `wattline serve` loads without changing it.
 */
function sdkProbe(dir: string): string {
  fs.writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.includes('/@aws-sdk/')) port.postMessage(resolved.url);
  return resolved;
}
`,
  );
  const probe = path.join(dir, 'probe.mjs');
  fs.writeFileSync(
    probe,
    `import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
register(new URL('./hooks.mjs', import.meta.url), { data: { port: port2 }, transferList: [port2] });
let said = false;
port1.on('message', (url) => { if (!said) process.stderr.write('probe: the AWS SDK was loaded: ' + url + '\\n'); said = true; });
port1.unref();
`,
  );
  return probe;
}

/** `wattline serve` on free ports with default settings (plus `env`), its stderr kept. */
async function serve(t: TestContext, env: Record<string, string> = {}) {
  const dir = tempDir();
  const child = spawn(process.execPath, ['--import', sdkProbe(dir), bin, 'serve'], {
    env: {
      ...process.env,
      WATTLINE_DATA_DIR: dir,
      WATTLINE_HTTP_PORT: '0',
      WATTLINE_GRPC_PORT: '0',
      WATTLINE_LOG_LEVEL: 'warn',
      WATTLINE_API_KEYS: '',
      WATTLINE_CARBON_URL: '', // no public API from a test
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    child.kill('SIGKILL');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => /Metrics\s+\S+\n/.test(out) || child.exitCode !== null, 30_000, 'the server banner');
  return {
    url: /HTTP API\s+(\S+)/.exec(out)![1],
    key: /API key\s+(?!kept in)(\S+)/.exec(out)?.[1],
    /** Stops the server and answers everything it wrote on stderr. */
    async stderr() {
      child.kill('SIGTERM');
      await exited;
      return err;
    },
  };
}

test('a default start loads no AWS SDK and prints no AWS warning', async (t) => {
  const server = await serve(t);
  const stderr = await server.stderr();
  assert.doesNotMatch(stderr, /AWS SDK|NodeVersionSupportWarning/, stderr);
});

test('with dumps in S3 neither the start nor a dump prints the AWS SDK Node version warning', async (t) => {
  const { s3 } = await s3rver(t);
  const server = await serve(t, {
    WATTLINE_DUMPS_URL: `s3://${BUCKET}/dumps`,
    WATTLINE_S3_ENDPOINT: s3.endpoint,
    WATTLINE_S3_ACCESS_KEY_ID: s3.accessKeyId,
    WATTLINE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  });
  const dump = await fetch(`${server.url}/api/v1/dumps`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ date: '2024-01-01' }),
  });
  assert.equal(dump.status, 200, await dump.text());
  const stderr = await server.stderr();
  // the SDK is loaded for the dump, but says nothing
  assert.match(stderr, /the AWS SDK was loaded/);
  assert.doesNotMatch(stderr, /NodeVersionSupportWarning|AWS SDK for JavaScript/, stderr);
});

test('no installed package requires a Node version other than the one running', () => {
  const semver = createRequire(import.meta.url)('semver') as {
    satisfies(version: string, range: string, options: { includePrerelease: boolean }): boolean;
  };
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
  };
  const refused = Object.entries(lock.packages)
    .filter(([, p]) => {
      const range = !Array.isArray(p.engines) && p.engines?.node;
      return range && !semver.satisfies(process.version, range, { includePrerelease: true });
    })
    .map(([name, p]) => `${name}@${p.version} wants node ${(p.engines as { node: string }).node}`);
  // npm ci prints an EBADENGINE warning for each
  assert.deepEqual(refused, [], `running ${process.version}`);
});
