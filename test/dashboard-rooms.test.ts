import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, PHONE, drawn } from './browser.js';
import { build, sendJson } from './helpers.js';

/** The app's clock: noon on 1 June 2024 (13:00 in London), moved on by the test. */
const NOW = Date.parse('2024-06-01T12:00:00Z');
const M = 60_000;
const OFFLINE_AFTER = 15 * M;
const DAY = { spec: 'day:2024-06-01', start: '2024-06-01T00:00:00+01:00', end: '2024-06-02T00:00:00+01:00' };

const digits = (text: string | null) => (text ?? '').replace(/[^0-9.-]/g, '');

test('rooms: cards show the API’s power now and energy today, sensor badges follow the clock; energy per room as sorted bars', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  let now = NOW;
  const w = await build(t, { 'buildings.offlineAfterMs': OFFLINE_AFTER }, undefined, { now: () => now });

  await sendJson(w, 'POST', '/api/v1/rooms', { name: 'Meeting Room 2', floor: 1 });
  await sendJson(w, 'POST', '/api/v1/rooms', { name: 'Store' });
  await sendJson(w, 'POST', '/api/v1/sensors', {
    sensor_id: 'p1',
    name: 'Desk power',
    sensor_type: 'power',
    room: 'Meeting Room 2',
  });
  await sendJson(w, 'POST', '/api/v1/sensors', {
    sensor_id: 'e1',
    name: 'Main meter',
    sensor_type: 'energy',
    room: 'Meeting Room 2',
  });
  await sendJson(w, 'POST', '/api/v1/sensors', {
    sensor_id: 't1',
    name: 'Thermometer',
    sensor_type: 'temperature',
    room: 'Store',
  });
  const sent = await w.ingest([
    { series: 'sensors/p1', ts: NOW - 60 * M, value: 1500 },
    { series: 'sensors/p1', ts: NOW - 10 * M, value: 2000 },
    { series: 'sensors/e1', ts: NOW - 60 * M, value: 100 },
    { series: 'sensors/e1', ts: NOW - 30 * M, value: 100.5 },
    { series: 'sensors/e1', ts: NOW - 2 * M, value: 101 },
  ]);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  await sendJson(w, 'POST', '/api/v1/rooms/metrics', {});
  const rooms = (await w.request('/api/v1/rooms')).body.rooms;
  const metrics = rooms.find((r: { name: string }) => r.name === 'Meeting Room 2').metrics;
  assert.ok(metrics.power_w > 0 && metrics.energy_today_kwh > 0, JSON.stringify(metrics));

  const page = await browser.page();
  await page.goto(`${w.url}/?view=rooms&period=${DAY.spec}`);
  await drawn(page);
  assert.deepEqual(page.errors, []);
  const card = page.locator('[data-testid="room-card"][data-room="Meeting Room 2"]');
  assert.equal(digits(await card.getByTestId('room-power').textContent()), String(Math.round(metrics.power_w)));
  assert.equal(digits(await card.getByTestId('room-energy-today').textContent()), metrics.energy_today_kwh.toFixed(2));
  const badge = (page2: Page, sensor: string) => page2.locator(`[data-sensor="${sensor}"] .badge`).textContent();
  assert.equal(await badge(page, 'p1'), 'online');
  assert.equal(await badge(page, 'e1'), 'online');
  assert.equal(await badge(page, 't1'), 'never');
  // the room metrics the run stored (rooms/<room>/power_w) are sums of sensors, not the building's
  // meter: the device bars are measured against a real meter
  assert.equal(await page.locator('select#meter').inputValue(), 'sensors/e1');

  // the period's energy per room: the API's numbers, the largest first
  const query = new URLSearchParams({ start: DAY.start, end: DAY.end, tz: 'Europe/London' });
  const energy = (await w.request(`/api/v1/analytics/energy?${query}`)).body;
  const byRoom = new Map<string, number>(
    energy.rooms.map((r: { room: string; energy_kwh: number }) => [r.room, r.energy_kwh]),
  );
  const bars = page.getByTestId('room-bars').locator('[data-room]');
  assert.deepEqual(await bars.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-room'))), [
    'Meeting Room 2',
    'Store',
  ]);
  assert.equal(digits(await bars.first().locator('.value').textContent()), byRoom.get('Meeting Room 2')?.toFixed(2));
  assert.ok((byRoom.get('Meeting Room 2') ?? 0) > 0);
  await browser.screenshot(page, 'rooms-desktop');

  // past offlineAfterMs since p1's last reading (e1 keeps reading): p1's badge says offline
  now = NOW - 10 * M + OFFLINE_AFTER + M;
  assert.equal((await w.ingest([{ series: 'sensors/e1', ts: now, value: 101.2 }])).status, 200);
  await page.reload();
  await drawn(page);
  assert.equal(await badge(page, 'p1'), 'offline');
  assert.equal(await badge(page, 'e1'), 'online');

  const phone = await browser.page(PHONE);
  await phone.goto(`${w.url}/?view=rooms&period=${DAY.spec}`);
  await drawn(phone);
  await browser.screenshot(phone, 'rooms-390px');
  assert.deepEqual([...page.errors, ...phone.errors], []);
});

test('rooms: with no rooms the page says how to add a room and a sensor', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await build(t);
  const page = await browser.page();
  await page.goto(`${w.url}/?view=rooms`);
  await drawn(page);
  const empty = page.getByTestId('empty-state');
  assert.match((await empty.textContent()) ?? '', /No rooms yet/);
  const curls = (await empty.locator('pre').allTextContents()).join('\n');
  assert.ok(curls.includes(`${w.url}/api/v1/rooms`), curls);
  assert.ok(curls.includes(`${w.url}/api/v1/sensors`), curls);
  await browser.screenshot(page, 'rooms-empty-desktop');
  const phone = await browser.page(PHONE);
  await phone.goto(`${w.url}/?view=rooms`);
  await drawn(phone);
  await browser.screenshot(phone, 'rooms-empty-390px');
  assert.deepEqual([...page.errors, ...phone.errors], []);
});
