import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { drawn, launchBrowser, PHONE } from './browser.js';
import { sglFile } from './files-fixtures.js';
import { build, sendJson, tempDir } from './helpers.js';

test('data health: the watched locations with their last error, and the ledger filtered by status with a rejected file’s line and reason', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const dir = tempDir('wattline-drops-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(
    path.join(dir, 'good.sgl_v2'),
    sglFile({ meterPoint: 'PT01', day: '20240115', kwh: () => 0.5 }),
    'latin1',
  );
  fs.writeFileSync(
    path.join(dir, 'bad.sgl_v2'),
    sglFile({ meterPoint: 'PT02', day: '20240115', kwh: () => 0.5, trailerCount: 90 }),
    'latin1',
  );
  const w = await build(t, {
    'files.locations': [
      { url: `file://${dir}`, name: 'drops', skip_initial_scan: true },
      { url: `file://${dir}/missing`, name: 'gone', skip_initial_scan: true },
    ],
    'files.settleMs': 0,
  });
  await sendJson(w, 'POST', '/api/v1/ingestion/trigger', {});
  const status = (await w.request('/api/v1/ingestion/status')).body.locations;
  const gone = status.find((l: { name: string }) => l.name === 'gone');
  assert.ok(gone.last_error, 'the missing folder is an error the API reports');

  const page = await browser.page();
  await page.goto(`${w.url}/?view=health&period=day:2024-01-15`);
  await drawn(page);
  assert.deepEqual(page.errors, []);
  const locations = page.getByTestId('location-row');
  assert.equal(await locations.count(), 2);
  assert.equal(
    await page.locator('[data-location="gone"]').getByTestId('location-error').textContent(),
    gone.last_error,
  );
  assert.match(
    (await page.locator('[data-location="drops"]').textContent()) ?? '',
    /1 ingested, 1 rejected, 0 pending, 0 skipped/,
  );
  const ledger = page.getByTestId('ledger-row');
  assert.equal(await ledger.count(), 2);
  assert.equal(await page.locator('[data-file="good.sgl_v2"]').getAttribute('data-status'), 'ingested');
  const why = (await page.locator('[data-file="bad.sgl_v2"]').getByTestId('ledger-error').textContent()) ?? '';
  assert.match(why, /^line 98: .*90.*96|^line 98: .*96.*90/);
  await browser.screenshot(page, 'health-files-desktop');

  // the filter: keyboard to "rejected", the URL keeps it, only the rejected file is listed
  await page.getByTestId('ledger-filter').getByRole('link', { name: 'rejected' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.searchParams.get('files') === 'rejected');
  await drawn(page);
  assert.deepEqual(await ledger.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-file'))), ['bad.sgl_v2']);

  const phone = await browser.page(PHONE);
  await phone.goto(`${w.url}/?view=health&period=day:2024-01-15&files=rejected`);
  await drawn(phone);
  assert.equal(await phone.getByTestId('ledger-row').count(), 1);
  await browser.screenshot(phone, 'health-files-390px');
  assert.deepEqual(phone.errors, []);
});
