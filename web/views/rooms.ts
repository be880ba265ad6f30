import { get, type Json } from '../api.js';
import { formatKwh, h, problem } from '../dom.js';
import type { View, ViewContext } from '../view.js';

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
}

/** Most sensors one request lists (the API's limit); a building with more shows the first ones. */
const SENSOR_LIMIT = '10000';

/** Rooms: each room's power now, energy today and sensors' status, and the period's energy per room. */
export const rooms: View = {
  id: 'rooms',
  title: 'Rooms',
  module: 'buildings',
  async render(ctx) {
    const list: Room[] = (await get('/api/v1/rooms')).rooms;
    if (list.length === 0) {
      ctx.root.append(emptyState());
      return;
    }
    const cards = h('section', { class: 'rooms', 'aria-label': 'Rooms' });
    const bars = h('section', { class: 'panel', 'aria-label': 'Energy per room in the period' });
    ctx.root.append(cards, bars);
    // each panel shows its own answer or error: one failing request does not blank the page
    await Promise.all([roomCards(list, cards), roomBars(ctx, bars)]);
  },
};

async function roomCards(list: Room[], section: HTMLElement) {
  // one request for every sensor rather than one per room
  let sensors: Sensor[] | undefined;
  let failure: string | undefined;
  try {
    sensors = (await get('/api/v1/sensors/get', { limit: SENSOR_LIMIT })).sensors;
  } catch (err) {
    failure = (err as Error).message;
  }
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
  const most = Math.max(...perRoom.map((r) => r.energy_kwh), 0);
  const list = h('ol', { class: 'room-bars', 'data-testid': 'room-bars' });
  for (const r of perRoom) {
    const share = most > 0 ? (100 * Math.max(r.energy_kwh, 0)) / most : 0;
    list.append(
      h(
        'li',
        { 'data-room': r.room },
        h('span', { class: 'name', title: r.room }, r.room),
        h('span', { class: 'bar' }, h('span', { style: `width: ${share.toFixed(1)}%` })),
        h('span', { class: 'value' }, formatKwh(r.energy_kwh)),
      ),
    );
  }
  panel.append(list, h('p', { class: 'note' }, `All power and energy sensors: ${formatKwh(body.total.energy_kwh)}`));
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
