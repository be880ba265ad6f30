import { DateTime } from 'luxon';
import { get } from '../api.js';
import { h, problem } from '../dom.js';
import type { View, ViewContext } from '../view.js';
import { age } from './health.js';

/** A device as `GET /api/v1/devices` answers it. */
interface Device {
  id: string;
  family: string;
  source: string;
  online: boolean | null;
  last_message: string | null;
  poll: {
    kind: string;
    url: string;
    interval_s: number;
    last_success: string | null;
    last_error: { time: string; message: string } | null;
    consecutive_failures: number;
    next_poll: string | null;
  } | null;
}

/** A sensor as `GET /api/v1/sensors/get` answers it (the fields this view reads). */
interface Sensor {
  sensor_id: string;
  series: string;
  unit: string | null;
  sensor_type: string;
  last_seen: string | null;
  last_value: number | null;
}

/** Most sensors one request lists (the API's limit). */
const SENSOR_LIMIT = '10000';

/**
 * Devices: each device of the registry (MQTT, polled, Emoncms) with its family, availability, last
 * message, its sensors' latest values and, for polled ones, how its polls go.
 */
export const devices: View = {
  id: 'devices',
  title: 'Devices',
  module: 'devices',
  async render(ctx) {
    const [list, sensors] = await Promise.all([
      get('/api/v1/devices').then(
        (body) => body.devices as Device[],
        (err: Error) => err,
      ),
      sensorsOf(ctx),
    ]);
    if (list instanceof Error) {
      ctx.root.append(h('section', { class: 'panel' }, h('h2', {}, 'Devices'), problem(list.message)));
      return;
    }
    if (list.length === 0) {
      ctx.root.append(emptyState(ctx));
      return;
    }
    const grid = h('section', { class: 'devices', 'aria-label': 'Devices' });
    for (const device of list) grid.append(deviceCard(ctx, device, sensors));
    ctx.root.append(grid);
  },
};

/** Every sensor, or why they could not be read (each card then says so). */
async function sensorsOf(ctx: ViewContext): Promise<Sensor[] | Error> {
  if (!ctx.config.modules.includes('buildings')) return new Error('The buildings module is off: no sensors to show.');
  try {
    return (await get('/api/v1/sensors/get', { limit: SENSOR_LIMIT })).sensors;
  } catch (err) {
    return err as Error;
  }
}

/** A time in the page's zone with how long ago it was: `1 Jun 2024 13:00:05 (3 min ago)`. */
function when(ctx: ViewContext, iso: string | null, never = 'never'): string {
  if (!iso) return never;
  const at = DateTime.fromISO(iso).setZone(ctx.config.timezone);
  const ms = Date.now() - at.toMillis();
  return `${at.toFormat('d LLL yyyy HH:mm:ss')} (${ms >= 0 ? `${age(ms)} ago` : `in ${age(-ms)}`})`;
}

function availability(online: boolean | null): HTMLElement {
  const [cls, text] = online === null ? ['', 'unknown'] : online ? ['online', 'online'] : ['offline', 'offline'];
  return h('span', { class: `badge ${cls}`, 'data-testid': 'availability' }, text);
}

function deviceCard(ctx: ViewContext, d: Device, sensors: Sensor[] | Error): HTMLElement {
  const card = h('article', { class: 'device', 'data-testid': 'device-card', 'data-device': d.id });
  card.append(
    h('h3', {}, availability(d.online), ' ', h('code', {}, d.id)),
    h(
      'dl',
      { class: 'device-facts' },
      fact('Family', d.family, 'family'),
      fact('Source', d.source, 'source'),
      fact('Last message', when(ctx, d.last_message), 'last-message'),
    ),
  );
  if (d.poll) card.append(pollHealth(ctx, d.poll));
  card.append(sensorList(d, sensors));
  return card;
}

function fact(label: string, value: Node | string, testId: string): HTMLElement {
  return h('div', {}, h('dt', {}, label), h('dd', { 'data-testid': testId }, value));
}

/** How a polled device's polls go: failures in a row, the last error, when it is polled next. */
function pollHealth(ctx: ViewContext, p: NonNullable<Device['poll']>): HTMLElement {
  const failing = p.consecutive_failures > 0;
  const box = h('section', { class: `poll-health${failing ? ' failing' : ''}`, 'data-testid': 'poll-health' });
  box.append(
    h('h4', {}, `Polled every ${age(p.interval_s * 1000)} (${p.kind})`),
    h(
      'dl',
      { class: 'device-facts' },
      fact('Last success', when(ctx, p.last_success), 'last-success'),
      fact(
        'Failures in a row',
        h('span', { class: failing ? 'error' : '' }, String(p.consecutive_failures)),
        'failures',
      ),
      fact('Next poll', when(ctx, p.next_poll, 'not scheduled'), 'next-poll'),
    ),
  );
  if (p.last_error)
    box.append(
      h(
        'p',
        { class: failing ? 'error' : 'past', 'data-testid': 'last-error' },
        `Last error ${when(ctx, p.last_error.time)}: ${p.last_error.message}`,
      ),
    );
  return box;
}

/** The device's sensors (its series are `<device id>/<quantity>`) with their latest values. */
function sensorList(d: Device, sensors: Sensor[] | Error): HTMLElement {
  if (sensors instanceof Error) return problem(sensors.message);
  const own = sensors.filter((s) => s.series.startsWith(`${d.id}/`));
  if (own.length === 0) return h('p', { class: 'note' }, 'No sensors yet: they appear with the first reading.');
  const body = h('tbody');
  for (const s of own.sort((a, b) => a.series.localeCompare(b.series)))
    body.append(
      h(
        'tr',
        { 'data-sensor': s.sensor_id },
        h('td', {}, s.series.slice(d.id.length + 1)),
        h('td', { 'data-testid': 'sensor-value' }, value(s)),
      ),
    );
  const head = h('tr', {}, h('th', { scope: 'col' }, 'Quantity'), h('th', { scope: 'col' }, 'Latest'));
  return h('table', { class: 'device-sensors' }, h('thead', {}, head), body);
}

const number = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 3 });

function value(s: Sensor): string {
  return s.last_value === null ? '—' : `${number.format(s.last_value)}${s.unit ? ` ${s.unit}` : ''}`;
}

/** No device yet: the three ways to connect one. */
function emptyState(ctx: ViewContext): HTMLElement {
  const origin = location.origin;
  const json = `-H 'Content-Type: application/json'`;
  return h(
    'section',
    { class: 'empty panel', 'data-testid': 'empty-state' },
    h('h2', {}, 'No devices yet'),
    h('p', {}, 'Devices appear here the first time they report. Connect them in one of three ways:'),
    h('h3', {}, 'MQTT (Tasmota, Shelly, Zigbee2MQTT, emonhub)'),
    h('p', {}, 'Start Wattline with your broker, then reload this page once a device has published:'),
    h('pre', {}, 'WATTLINE_MQTT_URL=mqtt://127.0.0.1:1883 wattline serve'),
    h('h3', {}, 'Polled over HTTP (Shelly, Tasmota, any JSON)'),
    h('p', {}, 'Add a device with a write key:'),
    h(
      'pre',
      {},
      `curl -u <your key>: ${json} -d '{"id":"plug1","kind":"shelly-gen2","url":"http://192.168.1.40","interval_s":10}' ${origin}/api/v1/devices`,
    ),
    h('h3', {}, 'Emoncms (emonTx, emonPi, scripts)'),
    h(
      'p',
      {},
      `Set emonhub's Emoncms URL (or your script's) to ${origin} with a write key as its apikey, for example:`,
    ),
    h('pre', {}, `curl '${origin}/input/post?node=emontx&csv=100,200&apikey=<your key>'`),
    ctx.config.modules.includes('buildings')
      ? null
      : h('p', { class: 'note' }, 'The buildings module is off: devices will show without their sensors.'),
  );
}
