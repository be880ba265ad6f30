import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from './helpers.js';

const DASHBOARD = 'https://dash.example.com';
const ELSEWHERE = 'https://evil.example.net';

/** What a browser sends before a cross-site call with a key: the preflight, and the call's own CORS headers. */
async function crossSite(url: string, origin: string, key: string) {
  const preflight = await fetch(`${url}/api/v1/series`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization',
    },
  });
  await preflight.arrayBuffer();
  const call = await fetch(`${url}/api/v1/series`, { headers: { origin, authorization: `Bearer ${key}` } });
  await call.arrayBuffer();
  return {
    preflightStatus: preflight.status,
    preflightAllows: preflight.headers.get('access-control-allow-origin'),
    allowedHeaders: preflight.headers.get('access-control-allow-headers'),
    callStatus: call.status,
    callAllows: call.headers.get('access-control-allow-origin'),
  };
}

test('CORS is closed by default: no page on another site may call the API from a browser', async (t) => {
  const w = await build(t);
  const r = await crossSite(w.url, DASHBOARD, w.key);
  assert.equal(r.preflightAllows, null);
  assert.equal(r.callAllows, null, 'the browser would not let the page read the answer');
  assert.ok(r.preflightStatus >= 400, `preflight answered ${r.preflightStatus}`);
});

test('http.corsOrigins lets the listed origins call with their keys, and only them', async (t) => {
  const w = await build(t, { 'http.corsOrigins': [DASHBOARD] });
  const listed = await crossSite(w.url, DASHBOARD, w.key);
  assert.equal(listed.preflightStatus, 204);
  assert.equal(listed.preflightAllows, DASHBOARD);
  assert.match(listed.allowedHeaders ?? '', /authorization/);
  assert.equal(listed.callStatus, 200);
  assert.equal(listed.callAllows, DASHBOARD);

  const other = await crossSite(w.url, ELSEWHERE, w.key);
  assert.equal(other.preflightAllows, null);
  assert.equal(other.callAllows, null);
});

test('an origin that is not one is refused at start with the setting named', async (t) => {
  await assert.rejects(
    build(t, { 'http.corsOrigins': ['dash.example.com/app'] }),
    /http\.corsOrigins.*expected an origin/s,
  );
});
