import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { ConfigError, listSettings, loadConfig } from './config.js';
import { composeSettings } from './core/settings.js';
import { withSettingsTable } from './core/settings-table.js';

test('defaults give a server on 127.0.0.1:8080 with data in ./data and open reads', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.httpPort, 8080);
  assert.equal(c.dataDir, './data');
  assert.equal(c.requireReadKey, false);
  assert.deepEqual(c.apiKeys, []);
  assert.ok(Object.isFrozen(c.ingest));
});

test('a YAML file is read and the environment wins over it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-config-'));
  const file = path.join(dir, 'wattline.yaml');
  fs.writeFileSync(file, 'httpPort: 9000\ndataDir: /srv/wattline\ningest:\n  batchSize: 500\nquery:\n  cacheSize: 5\n');
  const c = loadConfig({ env: { WATTLINE_CONFIG: file, WATTLINE_INGEST_BATCH_SIZE: '700' } });
  assert.equal(c.httpPort, 9000);
  assert.equal(c.dataDir, '/srv/wattline');
  assert.equal(c.ingest.batchSize, 700);
  assert.equal(c.query.cacheSize, 5);
  fs.rmSync(dir, { recursive: true });
});

test('API keys are parsed with their scopes, write by default', () => {
  const c = loadConfig({ env: { WATTLINE_API_KEYS: 'device-key-1, reader-key-1:read,boss-key-01:admin' } });
  assert.deepEqual(c.apiKeys, [
    { key: 'device-key-1', scope: 'write' },
    { key: 'reader-key-1', scope: 'read' },
    { key: 'boss-key-01', scope: 'admin' },
  ]);
});

test('a bad value stops start-up with a message naming the variable and what is accepted', () => {
  const check = (env: Record<string, string>, pattern: RegExp) => {
    assert.throws(
      () => loadConfig({ env }),
      (err: Error) => err instanceof ConfigError && pattern.test(err.message),
    );
  };
  check({ WATTLINE_HTTP_PORT: 'http' }, /WATTLINE_HTTP_PORT .*whole number from 0 to 65535 \(got "http"\)/);
  check({ WATTLINE_HTTP_PORT: '70000' }, /WATTLINE_HTTP_PORT/);
  check({ WATTLINE_REQUIRE_READ_KEY: 'maybe' }, /WATTLINE_REQUIRE_READ_KEY .*true, false/);
  check({ WATTLINE_LOG_LEVEL: 'loud' }, /WATTLINE_LOG_LEVEL .*info/);
  check({ WATTLINE_INGEST_BATCH_SIZE: '0' }, /WATTLINE_INGEST_BATCH_SIZE/);
  check({ WATTLINE_API_KEYS: 'secretkey123:root' }, /WATTLINE_API_KEYS .*scope must be one of read, write, admin/);
  check({ WATTLINE_CONFIG: '/nonexistent/wattline.yaml' }, /config file \/nonexistent\/wattline.yaml cannot be read/);
  // keys are never echoed back
  assert.throws(
    () => loadConfig({ env: { WATTLINE_API_KEYS: 'short' } }),
    (err: Error) => !err.message.includes('short'),
  );
});

test('the README settings table matches the config schema (run `npm run docs:settings` to fix)', () => {
  const readme = fs.readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');
  assert.equal(readme, withSettingsTable(readme, listSettings()));
});

test('a moved setting still answers to its old YAML name; the new name wins when both are given', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-config-'));
  const file = path.join(dir, 'old.yaml');
  fs.writeFileSync(file, 'carbonUrl: http://127.0.0.1:9/old\n');
  assert.equal(loadConfig({ env: { WATTLINE_CONFIG: file } }).carbon.url, 'http://127.0.0.1:9/old');
  fs.writeFileSync(file, 'carbonUrl: http://127.0.0.1:9/old\ncarbon:\n  url: http://127.0.0.1:9/new\n');
  assert.equal(loadConfig({ env: { WATTLINE_CONFIG: file } }).carbon.url, 'http://127.0.0.1:9/new');
  // its variable is unchanged
  assert.equal(loadConfig({ env: { WATTLINE_CARBON_URL: '' } }).carbon.url, '');
});

test('two modules claiming one settings area stop start-up naming both', () => {
  const a = z.object({ dumps: z.object({ x: z.number().default(1) }) });
  const b = z.object({ dumps: z.object({ y: z.number().default(2) }) });
  assert.throws(
    () =>
      composeSettings([
        { owner: 'dumps', schema: a },
        { owner: 'exports', schema: b },
      ]),
    /"dumps" is claimed by both dumps and exports/,
  );
});

test('an old environment name still sets a renamed setting; the new name wins', () => {
  assert.equal(loadConfig({ env: { WATTLINE_CLUSTER_EVERY: '7' } }).sensorlog.clusterEvery, 7);
  const both = { WATTLINE_CLUSTER_EVERY: '7', WATTLINE_SENSORLOG_CLUSTER_EVERY: '9' };
  assert.equal(loadConfig({ env: both }).sensorlog.clusterEvery, 9);
});
