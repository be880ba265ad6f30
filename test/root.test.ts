import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { build } from './helpers.js';

const { version } = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

test('GET / names Wattline and links the docs: JSON for API clients, the dashboard for browsers, without a key', async (t) => {
  const w = await build(t, { requireReadKey: true });
  const open = { authorization: '' };
  const json = await w.request('/', { headers: open });
  assert.equal(json.status, 200);
  assert.match(json.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(json.body.name, 'Wattline');
  assert.equal(json.body.version, version);
  assert.deepEqual(json.body.links, {
    docs: '/docs',
    openapi: '/openapi.json',
    metrics: '/metrics',
    health: '/health',
  });

  const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
  const html = await w.request('/', { headers: { ...open, accept: browser } });
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(html.body, /<title>Wattline/);
  assert.match(html.body, new RegExp(version.replaceAll('.', '\\.')));
  for (const href of ['/docs', '/openapi.json', '/metrics', '/health'])
    assert.match(html.body, new RegExp(`href="${href}"`));
  // the dashboard: its script and styles, bundled from web/ and served by this process, public like the page
  assert.match(html.body, /<script src="\/dashboard\/app\.js"/);
  assert.match(html.body, /"timezone":"Europe\/London"/);
  const script = await w.request('/dashboard/app.js', { headers: open });
  assert.equal(script.status, 200);
  assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.match(script.body, /uPlot|uplot/);
  const css = await w.request('/dashboard/app.css', { headers: open });
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
  assert.match(css.body, /prefers-color-scheme/);
  // no request leaves this server: nothing in the page or its assets names another host
  for (const body of [html.body, script.body, css.body])
    assert.doesNotMatch(body, /(src|href)=["']?https?:|@import|url\(["']?https?:/);
});

test("/docs carries Wattline's name, and each operation of /openapi.json says which key it needs", async (t) => {
  const w = await build(t, { requireReadKey: true });
  const docs = await w.request('/docs', { headers: { authorization: '', accept: 'text/html' } });
  assert.equal(docs.status, 200);
  assert.match(docs.body, /<title>Wattline/);
  assert.doesNotMatch(docs.body, /<title>Swagger UI/);

  const doc = (await w.request('/openapi.json', { headers: { authorization: '' } })).body;
  assert.ok(doc.components.securitySchemes.basic.description.includes('username'));
  assert.equal(doc.components.securitySchemes.bearer.scheme, 'bearer');
  const words = {
    public: /Access: public/,
    read: /Access: read key/,
    write: /Access: write key/,
    admin: /Access: admin key/,
  };
  for (const [pathname, operations] of Object.entries(doc.paths as Record<string, object>))
    for (const [method, op] of Object.entries(
      operations as Record<string, { 'x-access': keyof typeof words; description?: string; security?: unknown[] }>,
    )) {
      const route = `${method.toUpperCase()} ${pathname}`;
      assert.match(op.description ?? '', words[op['x-access']], `${route} states its access`);
      if (op['x-access'] === 'public') assert.deepEqual(op.security, [], `${route} needs no key`);
      else assert.equal(op.security, undefined, `${route} takes a key either way (the document's security)`);
    }
  assert.deepEqual(doc.security, [{ basic: [] }, { bearer: [] }]);
  const query = doc.paths['/api/v1/query'].get;
  assert.match(query.description, /Access: read key/);
});
