import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { tempDir, until } from './helpers.js';
import { freePort } from './private-services.js';
import { startServe } from './serve.js';

/** Every secret Wattline is given, each distinctive enough that finding it anywhere is a leak. */
const SECRETS = {
  apiKey: 'wl-key-Zq7secretAPIkey',
  mqttPassword: 'mqtt-pw-Zq7secret',
  mqttUrlPassword: 'mqtt-urlpw-Zq7secret',
  ftpPassword: 'ftp-pw-Zq7secret',
  s3Secret: 's3-secret-Zq7secret',
  octopusKey: 'sk_live_octopusZq7secret',
} as const;

/** An upstream that refuses everything: S3 and Octopus answer 403/401, so their error paths run. */
async function refusingUpstream(t: import('node:test').TestContext): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.writeHead(req.url?.startsWith('/v1/') ? 401 : 403, { 'content-type': 'application/xml' });
    res.end('<Error><Code>AccessDenied</Code><Message>denied</Message></Error>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

test('keys and passwords (API keys, MQTT, FTP, S3, Octopus) never appear in logs, metrics, errors or API answers, even when every one of them fails', {
  timeout: 120_000,
}, async (t) => {
  const upstream = await refusingUpstream(t);
  const closed = await freePort(); // nothing listens: MQTT and FTP fail to connect, again and again
  const dataDir = tempDir();
  const server = await startServe(dataDir, {
    env: {
      WATTLINE_LOG_LEVEL: 'debug', // everything a server could say
      WATTLINE_API_KEYS: `${SECRETS.apiKey}:admin`,
      WATTLINE_MQTT_URL: `mqtt://wattline:${SECRETS.mqttUrlPassword}@127.0.0.1:${closed}`,
      WATTLINE_MQTT_USERNAME: 'wattline',
      WATTLINE_MQTT_PASSWORD: SECRETS.mqttPassword,
      WATTLINE_FILES_LOCATIONS: JSON.stringify([
        { url: `ftp://meters:${SECRETS.ftpPassword}@127.0.0.1:${closed}/curves`, name: 'utility' },
      ]),
      WATTLINE_S3_ENDPOINT: upstream.url,
      WATTLINE_S3_ACCESS_KEY_ID: 'AKIAWATTLINETEST',
      WATTLINE_S3_SECRET_ACCESS_KEY: SECRETS.s3Secret,
      WATTLINE_DUMPS_URL: 's3://dumps/wattline',
      WATTLINE_OCTOPUS_URL: upstream.url,
      WATTLINE_OCTOPUS_API_KEY: SECRETS.octopusKey,
      WATTLINE_OCTOPUS_MPAN: '1200000000000',
      WATTLINE_OCTOPUS_SERIAL: '21L0000000',
      WATTLINE_OCTOPUS_BOOTSTRAP_DAYS: '1',
      WATTLINE_SOURCES_RETRIES: '0',
    },
  });
  let output = server.banner;
  server.child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  t.after(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const auth = { authorization: `Bearer ${SECRETS.apiKey}` };
  const answers: string[] = [];
  const call = async (pathname: string, init: RequestInit = {}) => {
    const r = await fetch(server.url + pathname, init);
    const text = await r.text();
    // what came back only: the request itself may carry the key, as clients send it
    answers.push(`${r.status} ${[...r.headers].join(' ')} ${text}`);
    return { status: r.status, text };
  };

  // make every secret's owner fail, and ask about it
  const scan = await call('/api/v1/ingestion/trigger', { method: 'POST', headers: auth });
  assert.equal(scan.status, 200, scan.text);
  const dump = await call('/api/v1/dumps', {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ date: '2024-01-01' }),
  });
  assert.ok(dump.status >= 400, `a dump to a refusing S3 fails: ${dump.status}`);
  await until(() => upstream.seen.some((s) => s.startsWith('GET /v1/')), 20_000, 'the Octopus connector to call');
  await until(
    async () => /"mqtt":\{"status":"unavailable"/.test((await call('/ready')).text),
    20_000,
    '/ready to list the MQTT broker as away',
  );
  // a client sending the key the ways clients do: in the query (Emoncms, WebSocket, InfluxDB v1), wrongly, …
  await call(`/input/post?apikey=${SECRETS.apiKey}&node=1&fulljson={"power":1}`);
  await call(`/write?db=x&u=x&p=${SECRETS.apiKey}`, { method: 'POST', body: 'm v=1' });
  await call('/api/v1/series', { headers: { authorization: `Bearer ${SECRETS.apiKey}x` } });
  await call('/api/v1/series', {
    headers: { authorization: `Basic ${Buffer.from(`${SECRETS.apiKey}x:`).toString('base64')}` },
  });
  for (const pathname of [
    '/ready',
    '/metrics',
    '/openapi.json',
    '/api/v1/overview',
    '/api/v1/ingestion/status',
    '/api/v1/ingestion/files',
    '/api/v1/sources',
    '/api/v1/dumps',
    '/api/v1/devices',
    '/api/v1/keys',
  ])
    await call(pathname, { headers: auth });
  await new Promise((resolve) => setTimeout(resolve, 500)); // the last log lines out

  const everything = `${output}\n${answers.join('\n')}`;
  assert.ok(output.includes('"level":20'), 'debug lines were written, so the check saw them');
  assert.ok(/ftp:\/\/meters:\*+@|ftp:\/\/meters@/.test(everything), 'the FTP location is named (its password hidden)');
  for (const [name, secret] of Object.entries(SECRETS)) {
    const at = everything.indexOf(secret);
    assert.equal(at, -1, `${name} appears: …${everything.slice(Math.max(0, at - 200), at + 60)}…`);
  }
  // base64 of basic-auth headers counts too (Octopus sends its key as the basic user)
  const octopusBasic = Buffer.from(`${SECRETS.octopusKey}:`).toString('base64');
  assert.equal(everything.includes(octopusBasic), false, 'the Octopus key appears base64-encoded');
});
