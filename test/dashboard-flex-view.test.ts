import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DateTime } from 'luxon';
import type { Page } from 'playwright-core';
import { drawn, launchBrowser, PHONE } from './browser.js';
import { addDevice, DR, FLEX_SETTINGS, invite, jsonInit, MINUTE, T0, testClock, ZONE } from './flex-fixtures.js';
import { build, type TestApp, until } from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: API answers read field by field
type Json = any;

const NOON = T0 + 60 * MINUTE; // Monday 3 June 2024, 12:00 London
const local = (date: string, time: string) => DateTime.fromISO(`${date}T${time}`, { zone: ZONE }).toMillis();

/** As the page shows them (web/dom.ts formatKwh, web/views/flex.ts formatKw). */
const two = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const kwh = (v: number | null) => (v === null ? '—' : `${two.format(v)} kWh`);
const kw = (v: number | null) => (v === null ? '—' : `${two.format(v)} kW`);

/**
 * plug-1, a W gauge read every 15 minutes from Monday 20 May to 12:30 on Monday 3 June: 2000 W
 * (1 kWh a half-hour) except 400 W from 12:00 (0.2 kWh in the event's half-hour): 10 clean working
 * days of baseline, 0.8 kWh delivered. plug-2 draws 1000 W over the last hour.
 */
function readings() {
  const out: { series: string; ts: number; value: number }[] = [];
  for (let ts = local('2024-05-20', '00:00'); ts <= NOON + 30 * MINUTE; ts += 15 * MINUTE)
    out.push({ series: 'sensors/plug-1', ts, value: ts >= NOON ? 400 : 2000 });
  for (let ts = NOON - 30 * MINUTE; ts <= NOON + 30 * MINUTE; ts += 5 * MINUTE)
    out.push({ series: 'sensors/plug-2', ts, value: 1000 });
  return out;
}

/**
 * The clock at 12:30 on Monday 3 June 2024: an event 12:00–12:30 answered YES has completed (its
 * report has a baseline), an invitation at 15:00 for both plugs waits for an answer.
 */
async function seeded(t: Parameters<typeof build>[0]) {
  const clock = testClock();
  const w = await build(t, { ...FLEX_SETTINGS, 'flex.rewardPerKwh': 0.25 }, undefined, { now: clock.now });
  await addDevice(w, 'plug-1');
  await addDevice(w, 'plug-2');
  const enabled = await w.request(`${DR}/iot/demandresponse/enable`, jsonInit('POST', { iot: 'plug-1', enable: true }));
  assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
  assert.equal((await w.ingest(readings())).status, 200);
  const done = await invite(w, {
    event_time: '2024-06-03T12:00:00',
    load_kwh: 2,
    load_percentage: 10,
    iots: ['plug-1'],
    duration_minutes: 30,
  });
  await w.request(`${DR}/invitation/answer`, jsonInit('POST', { event_id: done.event_id, response: 'YES' }));
  clock.ms = NOON + 30 * MINUTE;
  await until(
    async () => (await w.request('/api/v1/flex/events?status=completed')).body.events.length === 1,
    10_000,
    'the 12:00 event to complete',
  );
  const waiting = await invite(w, {
    event_time: '2024-06-03T15:00:00',
    load_kwh: 3,
    load_percentage: 20,
    iots: ['plug-1', 'plug-2'],
    duration_minutes: 60,
  });
  return { w, clock, done, waiting };
}

async function invitation(w: TestApp, id: string): Promise<Json> {
  const events: Json[] = (await w.request('/api/v1/flex/events')).body.events;
  return events.find((e) => e.event_id === id);
}

const text = async (page: Page, selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();

test('demand-response view: a waiting invitation with its countdown, answered Yes from the page once a write key is given (401, then 403 with a read key), the auto-answer switch, instructions, flexibility and a completed event’s report as the API says; live dr_event changes without a reload', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const { w, done, waiting } = await seeded(t);

  const page = await browser.page();
  await page.goto(`${w.url}/?view=flex`);
  await drawn(page);
  assert.deepEqual(page.errors, []);
  assert.equal(await page.getByRole('link', { name: 'Demand response' }).getAttribute('aria-current'), 'page');
  // the page stays this document throughout: live changes are drawn without a reload
  await page.evaluate(() => Object.assign(window, { sameDocument: true }));

  // the invitation waits: 15:00–16:00 in London, 2 h 30 min after the server's 12:30
  const row = page.locator(`[data-testid="invitation"][data-event="${waiting.event_id}"]`);
  assert.equal(await row.locator('td[data-label="Event"]').textContent(), '3 Jun 2024 15:00–16:00');
  assert.match((await row.getByTestId('countdown').textContent()) ?? '', /^starts in 2 h (30|29) min$/);
  assert.equal(await row.locator('td[data-label="Asked for"]').textContent(), '3.00 kWh (20 %) for 60 min');

  // the completed event's report: the API's numbers
  const report = (await w.request(`/api/v1/flex/events/${done.event_id}/report`)).body;
  assert.equal(report.baseline, 'complete');
  const shown = page.getByTestId('event-report');
  assert.equal(await shown.getAttribute('data-event'), done.event_id);
  assert.equal(await shown.getByTestId('delivered').textContent(), kwh(report.total_delivered_kwh));
  assert.equal(await shown.getByTestId('delivered').textContent(), '0.80 kWh');
  assert.equal(await shown.getByTestId('delivered-share').textContent(), '40%');
  assert.equal(await shown.getByTestId('benefit').textContent(), two.format(report.benefit));
  assert.equal(await shown.getByTestId('baseline').textContent(), 'BL01, 10 days');
  assert.equal(await shown.getByTestId('slot').count(), report.slots.length);
  assert.equal(
    await shown.locator('[data-testid="slot"] td[data-label="Baseline"]').first().textContent(),
    kwh(report.slots[0].baseline_kwh),
  );
  await shown.locator('[data-testid="report-chart"] canvas').waitFor();

  // flexibility now: per device and in total, as the API answers
  const flexibility = (await w.request(`${DR}/energy/flexibility`)).body;
  assert.equal(await text(page, '[data-testid="flex-total"]'), kw(flexibility.total_kw));
  for (const d of flexibility.devices)
    assert.equal(
      await text(page, `[data-testid="flex-device"][data-device="${d.iot}"] [data-testid="flex-kw"]`),
      kw(d.flexibility_kw),
      d.iot,
    );
  assert.ok(flexibility.total_kw > 0, `plug-1 could shed something: ${JSON.stringify(flexibility)}`);

  await browser.screenshot(page, 'flex-desktop');
  // dark: a page of its own, drawn dark from the start (the chart reads its colours when drawn)
  const dark = await browser.page();
  await dark.emulateMedia({ colorScheme: 'dark' });
  await dark.goto(`${w.url}/?view=flex`);
  await drawn(dark);
  await dark.getByTestId('report-chart').locator('canvas').waitFor();
  await browser.screenshot(dark, 'flex-desktop-dark');
  await dark.close();

  // Yes without a key: the API's 401 in the panel and a key asked for; the invitation still waits
  await row.getByRole('button', { name: /^Yes/ }).click();
  const waitingPanel = page.getByTestId('waiting');
  await waitingPanel.getByText('401 no credentials provided').waitFor();
  // the keyboard is taken to the key's field
  await until(
    () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') === 'Write key'),
    10_000,
    'the key field focused',
  );
  assert.equal((await invitation(w, waiting.event_id)).response, 'WAITING');
  // a read key: 403 in the API's words
  const readKey = (await w.request('/api/v1/keys', jsonInit('POST', { scope: 'read' }))).body.key;
  await waitingPanel.getByLabel('Write key').fill(readKey);
  await waitingPanel.getByRole('button', { name: 'Use this key and try again' }).click();
  await waitingPanel.getByText('403 this key has scope read; write is needed').waitFor();
  assert.equal((await invitation(w, waiting.event_id)).response, 'WAITING');
  // the admin key: answered YES on the server, the page moves it to the answered events
  await waitingPanel.getByLabel('Write key').fill(w.key);
  await waitingPanel.getByRole('button', { name: 'Use this key and try again' }).click();
  await until(async () => (await invitation(w, waiting.event_id)).response === 'YES', 10_000, 'answered YES');
  const answered = page.locator(`[data-testid="event"][data-event="${waiting.event_id}"]`);
  await answered.getByTestId('response').getByText('Yes').waitFor();
  assert.equal(await row.count(), 0);
  await page.getByTestId('none-waiting').waitFor();
  assert.equal(await waitingPanel.locator('.error').count(), 0, 'the error is gone once answered');

  // the auto-answer switch changes the server's flag, both ways
  const auto = page.getByTestId('auto-answer');
  assert.equal(await auto.getAttribute('aria-checked'), 'false');
  await auto.click();
  await until(async () => (await w.request(`${DR}/invitation/auto`)).body.auto_answer === true, 10_000, 'auto on');
  await page.locator('[data-testid="auto-answer"][aria-checked="true"]').waitFor();
  await page.getByTestId('auto-answer').click();
  await until(async () => (await w.request(`${DR}/invitation/auto`)).body.auto_answer === false, 10_000, 'auto off');
  await page.locator('[data-testid="auto-answer"][aria-checked="false"]').waitFor();

  // instructions: plug-2 (named by the invitation, never set) to shifting 15 %, its demand response on
  const plug2 = page.locator('[data-testid="device"][data-device="plug-2"]');
  assert.equal(await plug2.getByTestId('enable').getAttribute('aria-checked'), 'false');
  await plug2.getByTestId('instruction').selectOption('shifting');
  await until(
    async () => (await w.request(`${DR}/iot/instructions?iot=plug-2`)).body.instructions[0].instruction === 'shifting',
    10_000,
    'plug-2 shifting',
  );
  await page.locator('[data-device="plug-2"] [data-testid="shifting"]:not([disabled])').fill('15');
  await page.locator('[data-device="plug-2"] [data-testid="shifting"]').press('Tab');
  await until(
    async () => (await w.request(`${DR}/iot/instructions?iot=plug-2`)).body.instructions[0].shifting_percentage === 15,
    10_000,
    'plug-2 at 15 %',
  );
  await page.locator('[data-device="plug-2"] [data-testid="enable"]').click();
  await until(
    async () => (await w.request(`${DR}/iot/instructions?iot=plug-2`)).body.instructions[0].demandresponse === true,
    10_000,
    'plug-2 on',
  );
  await page.locator('[data-device="plug-2"] [data-testid="share"]', { hasText: '15%' }).waitFor();
  // its flexibility now follows: 15 % of its recent power, as the API says
  const after = (await w.request(`${DR}/energy/flexibility`)).body;
  const plug2Now = after.devices.find((d: Json) => d.iot === 'plug-2');
  assert.equal(plug2Now.share, 0.15);
  await page
    .locator('[data-testid="flex-device"][data-device="plug-2"] [data-testid="flex-kw"]', {
      hasText: kw(plug2Now.flexibility_kw),
    })
    .waitFor();
  await page.locator('[data-testid="flex-total"]', { hasText: kw(after.total_kw) }).waitFor();

  // live: an invitation sent through the API appears, its cancellation removes it, without a reload
  await page.locator('.view[data-live="open"]').waitFor();
  const late = await invite(w, {
    event_time: '2024-06-03T17:00:00',
    load_kwh: 1,
    load_percentage: 5,
    iots: ['plug-1'],
    duration_minutes: 30,
  });
  const lateRow = page.locator(`[data-testid="invitation"][data-event="${late.event_id}"]`);
  await lateRow.waitFor();
  assert.match((await lateRow.getByTestId('countdown').textContent()) ?? '', /^starts in 4 h (30|29) min$/);

  // by keyboard alone: Tab reaches its Yes button, Enter answers it
  await page.locator('#views a[aria-current="page"]').focus();
  let focusedYes = false;
  for (let i = 0; i < 60 && !focusedYes; i++) {
    await page.keyboard.press('Tab');
    focusedYes = await page.evaluate(
      (id) => document.activeElement?.getAttribute('data-key') === `yes:${id}`,
      late.event_id,
    );
  }
  assert.ok(focusedYes, 'Tab reaches the Yes button');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
  assert.notEqual(outline, 'none', 'its focus shows');
  await page.keyboard.press('Enter');
  await until(async () => (await invitation(w, late.event_id)).response === 'YES', 10_000, 'answered by keyboard');

  const cancelled = await w.request(`/api/v1/flex/events/${late.event_id}/cancel`, jsonInit('POST', {}));
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
  await page.locator(`[data-event="${late.event_id}"]`).waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true);
  assert.deepEqual(page.errors, []);

  // 390 px: readable, no sideways scrolling
  const phone = await browser.page(PHONE);
  await phone.goto(`${w.url}/?view=flex`);
  await drawn(phone);
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `the page fits a phone (${width} px wide)`);
  await browser.screenshot(phone, 'flex-phone');
  assert.deepEqual(phone.errors, []);
});

test('demand-response view with no event says how to send an invitation; a failing API call shows its error in its panel', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await build(t, { timezone: ZONE });
  for (const [viewport, name] of [
    [undefined, 'flex-empty-desktop'],
    [PHONE, 'flex-empty-phone'],
  ] as const) {
    const page = await browser.page(viewport);
    await page.goto(`${w.url}/?view=flex`);
    await drawn(page);
    assert.deepEqual(page.errors, []);
    const empty = page.getByTestId('empty-state');
    const words = (await empty.textContent()) ?? '';
    assert.match(words, /No demand-response events yet/);
    assert.match(words, /curl -u <your key>: -H 'Content-Type: application\/json' -d '\{"event_time":"/);
    assert.ok(words.includes(`${w.url}/api/v1/demand-response/invitation/send`), words);
    assert.equal(await page.getByTestId('auto-answer').getAttribute('aria-checked'), 'false');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= (viewport ?? { width: 1280 }).width, `no sideways scrolling (${width} px)`);
    await browser.screenshot(page, name);
  }

  // the flexibility answer fails: its panel says so in the API's words, the others are drawn
  const page = await browser.page();
  await page.route('**/api/v1/demand-response/energy/flexibility', (route) =>
    route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"store busy, try again"}' }),
  );
  await page.goto(`${w.url}/?view=flex`);
  await drawn(page);
  assert.equal(
    await text(page, '[data-testid="flexibility"] .error'),
    'GET /api/v1/demand-response/energy/flexibility: 503 store busy, try again',
  );
  await page.getByTestId('auto-answer').waitFor();
  assert.deepEqual(page.errors, []);
});

test('demand-response view: a completed event without enough days of readings says there is no baseline, and why', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const clock = testClock();
  const w = await build(t, FLEX_SETTINGS, undefined, { now: clock.now });
  await addDevice(w, 'plug-1');
  await w.request(`${DR}/iot/demandresponse/enable`, jsonInit('POST', { iot: 'plug-1', enable: true }));
  const e = await invite(w, {
    event_time: '2024-06-03T12:00:00',
    load_kwh: 2,
    load_percentage: 10,
    iots: ['plug-1'],
    duration_minutes: 30,
  });
  await w.request(`${DR}/invitation/answer`, jsonInit('POST', { event_id: e.event_id, response: 'YES' }));
  clock.ms = NOON + 30 * MINUTE;
  await until(
    async () => (await w.request('/api/v1/flex/events?status=completed')).body.events.length === 1,
    10_000,
    'the event to complete',
  );
  const report = (await w.request(`/api/v1/flex/events/${e.event_id}/report`)).body;
  assert.equal(report.baseline, 'none');

  const page = await browser.page();
  await page.goto(`${w.url}/?view=flex`);
  await drawn(page);
  assert.equal(await text(page, '[data-testid="no-baseline"]'), `No baseline: ${report.reason}`);
  assert.equal(await page.getByTestId('delivered').count(), 0);

  // a sensor never set up is chosen from the list, then its demand response switched on (with a write key)
  await addDevice(w, 'plug-3');
  await page.reload();
  await drawn(page);
  await page.evaluate((key) => localStorage.setItem('wattline.key', key), w.key);
  await page.getByTestId('add-device').selectOption('plug-3');
  const plug3 = page.locator('[data-testid="device"][data-device="plug-3"]');
  assert.equal(await plug3.getByTestId('enable').getAttribute('aria-checked'), 'false');
  await plug3.getByTestId('enable').click();
  await until(
    async () => (await w.request(`${DR}/iot/instructions?iot=plug-3`)).body.instructions[0].demandresponse === true,
    10_000,
    'plug-3 on',
  );
  await page.locator('[data-device="plug-3"] [data-testid="enable"][aria-checked="true"]').waitFor();
  assert.deepEqual(page.errors, []);
});
