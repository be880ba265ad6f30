import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { DateTime } from 'luxon';
import { touchDevices } from '../src/modules/devices/repository.js';
import { launchBrowser, PHONE, drawn } from './browser.js';
import { build, until, sendJson } from './helpers.js';

/** A local HTTP device answering `answer` (a JSON body, or a status code when it fails). */
async function httpDevice(t: TestContext, answer: object | number): Promise<string> {
  const server = http.createServer((_req, res) => {
    if (typeof answer === 'number') return res.writeHead(answer).end('busy');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * A polled inverter that answers, a polled heat pump that does not (polled once an hour, so its
 * health stays as the API said it), and a Tasmota plug over MQTT that went offline (as the
 * subscriber notes it in the registry: its row, its sensor, its reading).
 */
async function seeded(t: TestContext) {
  const w = await build(t);
  await sendJson(w, 'POST', '/api/v1/devices', {
    id: 'inverter',
    kind: 'http-json',
    url: await httpDevice(t, { power_w: 1234.5, energy_kwh: 4512.25, temp_c: 41.2 }),
    interval_s: 3600,
  });
  await sendJson(w, 'POST', '/api/v1/devices', {
    id: 'heatpump',
    kind: 'tasmota',
    url: await httpDevice(t, 503),
    interval_s: 3600,
    password: 'never-shown',
  });
  const at = Date.now() - 5 * 60_000;
  await touchDevices(w.app.ctx.store, [
    { deviceId: 'devices/hall-plug', family: 'tasmota', source: 'mqtt', at, online: false },
  ]);
  await sendJson(w, 'POST', '/api/v1/sensors', {
    sensor_id: 'devices_hall-plug_power',
    name: 'hall-plug power',
    sensor_type: 'power',
    series: 'devices/hall-plug/power',
  });
  assert.equal((await w.ingest([{ series: 'devices/hall-plug/power', ts: at, value: 8.25 }])).status, 200);

  let devices: Json[] = [];
  await until(
    async () => {
      devices = (await w.request('/api/v1/devices')).body.devices;
      const inverter = devices.find((d) => d.id === 'devices/inverter');
      const heatpump = devices.find((d) => d.id === 'devices/heatpump');
      return Boolean(inverter?.poll.last_success && inverter.last_message && heatpump?.poll.last_error);
    },
    10_000,
    () => `both devices polled: ${JSON.stringify(devices)}`,
  );
  const sensors: Json[] = (await w.request('/api/v1/sensors/get?limit=1000')).body.sensors;
  return { w, devices, sensors };
}

// biome-ignore lint/suspicious/noExplicitAny: API answers read field by field
type Json = any;

const number = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 3 });

test("devices view: each device's family, availability and last message, its sensors' latest values, a polled device's health and error, as the API says", async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const { w, devices, sensors } = await seeded(t);
  const zone = w.app.ctx.config.timezone;
  const time = (iso: string) => DateTime.fromISO(iso).setZone(zone).toFormat('d LLL yyyy HH:mm:ss');

  const page = await browser.page();
  await page.goto(`${w.url}/?view=devices`);
  await drawn(page);
  assert.deepEqual(page.errors, []);
  assert.equal(await page.getByRole('link', { name: 'Devices' }).getAttribute('aria-current'), 'page');

  const cards = page.getByTestId('device-card');
  assert.equal(await cards.count(), devices.length);
  for (const d of devices) {
    const card = page.locator(`[data-testid="device-card"][data-device="${d.id}"]`);
    assert.equal(await card.getByTestId('family').textContent(), d.family, d.id);
    assert.equal(await card.getByTestId('source').textContent(), d.source, d.id);
    assert.equal(
      await card.getByTestId('availability').textContent(),
      d.online === null ? 'unknown' : d.online ? 'online' : 'offline',
      d.id,
    );
    const last = (await card.getByTestId('last-message').textContent()) ?? '';
    assert.ok(d.last_message ? last.startsWith(time(d.last_message)) : last === 'never', `${d.id}: ${last}`);

    // its sensors: those whose series start with the device's id, with the API's latest value and unit
    const own = sensors.filter((s) => s.series.startsWith(`${d.id}/`));
    assert.equal(await card.locator('[data-sensor]').count(), own.length, d.id);
    for (const s of own)
      assert.equal(
        await card.locator(`[data-sensor="${s.sensor_id}"] [data-testid="sensor-value"]`).textContent(),
        `${number.format(s.last_value)}${s.unit ? ` ${s.unit}` : ''}`,
      );
  }
  // what the seed made: three sensors of the inverter, the plug's one, none for the heat pump
  const inverter = page.locator('[data-device="devices/inverter"]');
  assert.equal(await inverter.locator('[data-sensor]').count(), 3);
  assert.equal(
    await inverter.locator('[data-sensor="devices_inverter_power_w"] [data-testid="sensor-value"]').textContent(),
    '1,234.5 W',
  );
  assert.equal(
    await page.locator('[data-device="devices/hall-plug"] [data-testid="availability"]').textContent(),
    'offline',
  );

  // polling health: the failing device's error and failures, the MQTT device none
  const heatpump = devices.find((d) => d.id === 'devices/heatpump');
  const failing = page.locator('[data-device="devices/heatpump"] [data-testid="poll-health"]');
  assert.equal(await failing.getByTestId('failures').textContent(), String(heatpump.poll.consecutive_failures));
  assert.match(heatpump.poll.last_error.message, /HTTP 503/);
  assert.ok(((await failing.getByTestId('last-error').textContent()) ?? '').includes(heatpump.poll.last_error.message));
  assert.ok(((await failing.getByTestId('next-poll').textContent()) ?? '').startsWith(time(heatpump.poll.next_poll)));
  const healthy = devices.find((d) => d.id === 'devices/inverter');
  assert.ok(
    ((await inverter.getByTestId('last-success').textContent()) ?? '').startsWith(time(healthy.poll.last_success)),
  );
  assert.equal(await page.locator('[data-device="devices/hall-plug"] [data-testid="poll-health"]').count(), 0);
  assert.ok(!((await page.textContent('body')) ?? '').includes('never-shown'), 'no password on the page');
  await browser.screenshot(page, 'devices-desktop');
  await page.emulateMedia({ colorScheme: 'dark' });
  await browser.screenshot(page, 'devices-desktop-dark');

  const phone = await browser.page(PHONE);
  await phone.goto(`${w.url}/?view=devices`);
  await drawn(phone);
  assert.equal(await phone.getByTestId('device-card').count(), devices.length);
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `the page fits a phone (${width} px wide)`);
  await browser.screenshot(phone, 'devices-phone');
});

test('devices view with no device says how to connect one: MQTT, a polled device, Emoncms', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await build(t);
  assert.deepEqual((await w.request('/api/v1/devices')).body.devices, []);
  for (const [viewport, name] of [
    [undefined, 'devices-empty-desktop'],
    [PHONE, 'devices-empty-phone'],
  ] as const) {
    const page = await browser.page(viewport);
    await page.goto(`${w.url}/?view=devices`);
    await drawn(page);
    assert.deepEqual(page.errors, []);
    const empty = page.getByTestId('empty-state');
    const text = (await empty.textContent()) ?? '';
    assert.match(text, /WATTLINE_MQTT_URL=mqtt:\/\/127\.0\.0\.1:1883/);
    assert.ok(text.includes(`${w.url}/api/v1/devices`));
    assert.ok(text.includes(`${w.url}/input/post?node=emontx`));
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= (viewport ?? { width: 1280 }).width, `no sideways scrolling (${width} px)`);
    await browser.screenshot(page, name);
  }
});
