import { get, type Json } from '../api.js';
import { formatKwh, h, problem } from '../dom.js';
import type { Period } from '../period.js';
import type { View, ViewContext } from '../view.js';
import { isMeter, meterPicker, type Series } from './overview.js';

interface Room {
  name: string;
  floor: number | null;
  sensor_count: number;
  metrics: { power_w: number | null; energy_today_kwh: number | null; computed_at: string | null };
}

interface Sensor {
  sensor_id: string;
  name: string;
  sensor_type: string;
  room: string | null;
  status: 'online' | 'offline' | 'never';
  series: string;
  unit: string | null;
  kind: Series['kind'];
}

/** The sensors, or why they could not be read: each panel that needs them says so itself. */
type Sensors = { sensors: Sensor[]; failure?: undefined } | { sensors?: undefined; failure: string };

/** Most sensors one request lists (the API's limit); a building with more shows the first ones. */
const SENSOR_LIMIT = '10000';

/**
 * Rooms: each room's power now, energy today and sensors' status, the period's energy per room,
 * and per device (power and energy sensor) with the whole-building meter's untracked remainder.
 */
export const rooms: View = {
  id: 'rooms',
  title: 'Rooms',
  module: 'buildings',
  async render(ctx) {
    // one request for every sensor rather than one per room, shared by the cards and the device bars
    const [list, sensors]: [Room[], Sensors] = await Promise.all([
      get('/api/v1/rooms').then((body) => body.rooms),
      get('/api/v1/sensors/get', { limit: SENSOR_LIMIT }).then(
        (body) => ({ sensors: body.sensors }),
        (err) => ({ failure: (err as Error).message }),
      ),
    ]);
    if (list.length === 0) {
      ctx.root.append(emptyState());
      if (!sensors.sensors?.length) return;
    }
    const cards = h('section', { class: 'rooms', 'aria-label': 'Rooms' });
    const bars = h('section', { class: 'panel', 'aria-label': 'Energy per room in the period' });
    const devices = h('section', { class: 'panel', 'aria-label': 'Energy per device in the period' });
    if (list.length > 0) ctx.root.append(cards, bars);
    ctx.root.append(devices);
    // each panel shows its own answer or error: one failing request does not blank the page
    await Promise.all([
      roomCards(list, cards, sensors),
      list.length > 0 && roomBars(ctx, bars),
      deviceBars(ctx, devices, sensors),
    ]);
  },
};

async function roomCards(list: Room[], section: HTMLElement, { sensors, failure }: Sensors) {
  for (const room of list) {
    const own = sensors?.filter((s) => s.room === room.name);
    section.append(roomCard(room, own, failure));
  }
}

function roomCard(room: Room, sensors: Sensor[] | undefined, failure: string | undefined): HTMLElement {
  const card = h('article', { class: 'room', 'data-testid': 'room-card', 'data-room': room.name });
  const floor = room.floor === null ? '' : ` · floor ${room.floor}`;
  card.append(h('h3', {}, room.name, h('small', { class: 'muted' }, floor)));
  const m = room.metrics;
  card.append(
    h(
      'dl',
      {},
      h('div', {}, h('dt', {}, 'Power now'), h('dd', { 'data-testid': 'room-power' }, formatWatts(m.power_w))),
      h(
        'div',
        {},
        h('dt', {}, 'Energy today'),
        h('dd', { 'data-testid': 'room-energy-today' }, formatKwh(m.energy_today_kwh)),
      ),
    ),
  );
  // computed every buildings.roomMetricsMs; none stored until a sensor of the room has a reading
  if (!m.computed_at) card.append(h('p', { class: 'note' }, 'No metrics yet.'));
  if (failure) card.append(problem(failure));
  else if (sensors?.length === 0) card.append(h('p', { class: 'note' }, 'No sensors.'));
  else if (sensors) {
    const ul = h('ul', { class: 'sensors' });
    for (const s of sensors)
      ul.append(
        h(
          'li',
          { 'data-sensor': s.sensor_id },
          h('span', { class: `badge ${s.status}` }, s.status),
          ' ',
          s.name,
          h('small', { class: 'muted' }, ` ${s.sensor_type}`),
        ),
      );
    card.append(ul);
  }
  return card;
}

const watts = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });

/** Power in whole watts (the room's sum), or a dash when no sensor gives it. */
function formatWatts(value: number | null): string {
  return value === null ? '—' : `${watts.format(value)} W`;
}

/** The period's energy per room, largest first, as bars of their share of the largest. */
async function roomBars(ctx: ViewContext, panel: HTMLElement) {
  const { period } = ctx;
  panel.append(h('h2', {}, `Energy per room, ${period.label}`));
  let body: Json;
  try {
    body = await get('/api/v1/analytics/energy', {
      start: period.start.toISO() ?? undefined,
      end: period.end.toISO() ?? undefined,
      tz: ctx.config.timezone,
    });
  } catch (err) {
    panel.append(problem((err as Error).message));
    return;
  }
  const perRoom: { room: string; energy_kwh: number }[] = [...body.rooms].sort(
    (a, b) => b.energy_kwh - a.energy_kwh || a.room.localeCompare(b.room),
  );
  const list = barList(
    'room-bars',
    perRoom.map((r) => ({ name: r.room, kwh: r.energy_kwh, attributes: { 'data-room': r.room } })),
  );
  panel.append(list, h('p', { class: 'note' }, `All power and energy sensors: ${formatKwh(body.total.energy_kwh)}`));
}

interface Bar {
  name: string;
  kwh: number | null;
  attributes: Record<string, string>;
}

/** Bars of each row's share of the largest, in the order given: name, bar, kWh. */
function barList(testId: string, bars: Bar[]): HTMLElement {
  const most = Math.max(...bars.map((b) => b.kwh ?? 0), 0);
  const list = h('ol', { class: 'room-bars', 'data-testid': testId });
  for (const b of bars) {
    const share = most > 0 ? (100 * Math.max(b.kwh ?? 0, 0)) / most : 0;
    list.append(
      h(
        'li',
        b.attributes,
        h('span', { class: 'name', title: b.name }, b.name),
        h('span', { class: 'bar' }, h('span', { style: `width: ${share.toFixed(1)}%` })),
        h('span', { class: 'value' }, formatKwh(b.kwh)),
      ),
    );
  }
  return list;
}

/** Series keys per energy request: about 30 characters each keeps the URL well under servers' limits. */
const SERIES_PER_REQUEST = 200;

/** Each series' energy over the period in kWh (null: no reading covered it), in as few requests as fit. */
async function energyTotals(keys: string[], period: Period, zone: string): Promise<Map<string, number | null>> {
  const batches: string[][] = [];
  for (let i = 0; i < keys.length; i += SERIES_PER_REQUEST) batches.push(keys.slice(i, i + SERIES_PER_REQUEST));
  const bodies = await Promise.all(
    batches.map((batch) =>
      get('/api/v1/energy', {
        series: batch.join(','),
        start: period.start.toISO() ?? undefined,
        end: period.end.toISO() ?? undefined,
        tz: zone,
        unit: 'kWh',
      }),
    ),
  );
  return new Map(bodies.flatMap((b) => b.results.map((r: Json) => [r.series, r.total])));
}

/**
 * The period's energy per device (each power or energy sensor), largest first, then what the
 * whole-building meter (`?meter=`, else the overview's choice) measured beyond their sum as its own
 * "Untracked" bar, as Home Assistant's energy dashboard shows individual devices.
 */
async function deviceBars(ctx: ViewContext, panel: HTMLElement, { sensors, failure }: Sensors) {
  const { period } = ctx;
  panel.append(h('h2', {}, `Energy per device, ${period.label}`));
  if (failure !== undefined) {
    panel.append(problem(failure));
    return;
  }
  let catalog: Series[];
  try {
    catalog = (await get('/api/v1/series', { limit: '1000' })).series;
  } catch (err) {
    panel.append(problem((err as Error).message));
    return;
  }
  const meters = catalog.filter(isMeter);
  const chosen = ctx.params.get('meter');
  const meter = chosen ? (catalog.find((s) => s.key === chosen) ?? ({ key: chosen } as Series)) : meters[0];
  // a meter registered as a sensor is the whole, not one of the parts
  const devices = sensors.filter((s) => isMeter(s) && s.series !== meter?.key);
  if (devices.length === 0) {
    panel.append(
      h(
        'p',
        { class: 'note', 'data-testid': 'no-devices' },
        'No power or energy sensors yet: add one (POST /api/v1/sensors with "sensor_type":"power" or "energy").',
      ),
    );
    return;
  }
  if (meter) panel.append(meterPicker(ctx, meter, meters));
  let totals: Map<string, number | null>;
  try {
    totals = await energyTotals(
      [...devices.map((d) => d.series), ...(meter ? [meter.key] : [])],
      period,
      ctx.config.timezone,
    );
  } catch (err) {
    panel.append(problem((err as Error).message));
    return;
  }
  const bars: Bar[] = devices
    .map((d) => ({ name: d.name, kwh: totals.get(d.series) ?? null, attributes: { 'data-sensor': d.sensor_id } }))
    .sort((a, b) => (b.kwh ?? -1) - (a.kwh ?? -1) || a.name.localeCompare(b.name));
  const tracked = bars.reduce((sum, b) => sum + (b.kwh ?? 0), 0);
  const whole = meter ? (totals.get(meter.key) ?? null) : null;
  const untracked = whole === null ? null : whole - tracked;
  if (untracked !== null && untracked >= 0)
    bars.push({ name: 'Untracked', kwh: untracked, attributes: { 'data-untracked': '', class: 'untracked' } });
  panel.append(barList('device-bars', bars), untrackedNote(meter, whole, tracked, untracked));
}

/** What the untracked bar is, or why there is none. */
function untrackedNote(meter: Series | undefined, whole: number | null, tracked: number, untracked: number | null) {
  const note = h('p', { class: 'note', 'data-testid': 'untracked-note' });
  if (!meter)
    note.append('No whole-building meter (a power gauge or energy meter series): untracked energy is unknown.');
  else if (whole === null) note.append(`${meter.key} has no readings in this period: untracked energy is unknown.`);
  else if (untracked !== null && untracked < 0)
    note.append(
      `The devices (${formatKwh(tracked)}) exceed the meter ${meter.key} (${formatKwh(whole)}) by `,
      h('strong', { 'data-testid': 'devices-exceed' }, formatKwh(-untracked)),
      ': a device may be counted twice or be on another supply.',
    );
  else note.append(`Untracked = ${meter.key} (${formatKwh(whole)}) − the devices (${formatKwh(tracked)}).`);
  return note;
}

/** No rooms: the two requests that make one with a sensor, as curl commands. */
function emptyState(): HTMLElement {
  const origin = location.origin;
  const json = "-H 'Content-Type: application/json'";
  return h(
    'section',
    { class: 'empty panel', 'data-testid': 'empty-state' },
    h('h2', {}, 'No rooms yet'),
    h('p', {}, 'Add a room, then a sensor in it (with a write key), send its readings, and reload this page:'),
    h('pre', {}, `curl -u <your key>: ${json} -d '{"name":"Kitchen","floor":0}' ${origin}/api/v1/rooms`),
    h(
      'pre',
      {},
      `curl -u <your key>: ${json} -d '{"sensor_id":"kitchen-power","name":"Kitchen power","sensor_type":"power","room":"Kitchen"}' ${origin}/api/v1/sensors`,
    ),
    h(
      'p',
      {},
      'Its readings are the series sensors/kitchen-power (POST /ingest or /api/v1/sensors/kitchen-power/data).',
    ),
  );
}
