import { Counter, Gauge, type Registry } from 'prom-client';
import type { WebSocket } from 'ws';
import type { Bus } from '../../core/bus/index.js';
import type { Logger } from '../../core/log.js';
import { READINGS_LIVE_TOPIC, type ReadingBatch } from '../../core/readings.js';
import type { Sensor } from './repository.js';
import { type ClientRequest, isGlob, parseClientMessage } from './ws-protocol.js';

/** The bus topics (the seed's names) the hub listens on besides the committed readings. */
export const SENSOR_EVENTS_TOPIC = 'sensor_events';
export const ENERGY_DATA_TOPIC = 'energy_data';
/** Demand-response changes (the flex module's `dr_event` and `dr_device` messages), sent to every client. */
export const DR_EVENTS_TOPIC = 'dr_events';
/** What became of each file a scan processed (the files module's `data_ingestion` messages), sent to every client. */
export const DATA_INGESTION_TOPIC = 'data_ingestion';

/** Close code for a client cut for falling behind ("try again later"). */
export const TOO_SLOW = 1013;

interface Client {
  socket: WebSocket;
  /** What the client asked for, as it asked. */
  sensors: Set<string>;
  rooms: Set<string>;
  series: Set<string>;
  /** The exact series keys and glob prefixes it is indexed under now (sensors and rooms resolved). */
  keys: Set<string>;
  prefixes: Set<string>;
  /** Messages sent since its socket last had nothing buffered: an upper bound on those not yet sent. */
  queued: number;
  /** Answered the last ping (or connected since). */
  alive: boolean;
  /** Cut or closing: nothing more is sent to it. */
  closing: boolean;
}

/** Sensors and rooms as the hub resolves them to series. */
interface SensorMap {
  seriesOfSensor: Map<string, string>;
  sensorsOfRoom: Map<string, string[]>;
  /** The sensor a series belongs to, named in `reading` messages (null when none). */
  sensorOfSeries: Map<string, string>;
}

const EMPTY: SensorMap = { seriesOfSensor: new Map(), sensorsOfRoom: new Map(), sensorOfSeries: new Map() };

function registryOf(sensors: readonly Sensor[]): SensorMap {
  const r: SensorMap = { seriesOfSensor: new Map(), sensorsOfRoom: new Map(), sensorOfSeries: new Map() };
  for (const s of sensors) {
    r.seriesOfSensor.set(s.sensorId, s.series);
    if (!r.sensorOfSeries.has(s.series)) r.sensorOfSeries.set(s.series, s.sensorId);
    if (s.room !== null) {
      const list = r.sensorsOfRoom.get(s.room);
      if (list) list.push(s.sensorId);
      else r.sensorsOfRoom.set(s.room, [s.sensorId]);
    }
  }
  return r;
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V) {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V) {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (!set.size) map.delete(key);
}

export interface LiveHub {
  /** Takes a connected socket: its messages subscribe and unsubscribe; it is fed until it closes. */
  accept(socket: WebSocket): void;
  close(): void;
}

/**
 * The live feed of one process: one subscription to committed readings (READINGS_LIVE_TOPIC, which
 * every persistor broadcasts, in-process or over NATS) and to room metrics, fanned out to the
 * connected clients through an index from series key to clients. Sensors and rooms are resolved to
 * series when a client subscribes, and again on every `sensor_events` notice and every ping round
 * (`wsPingMs`), so a sensor moved to another room or series is followed without a reconnect.
 */
export function createLiveHub(options: {
  bus: Bus;
  loadSensors: () => Promise<Sensor[]>;
  maxQueued: number;
  pingMs: number;
  registry: Registry;
  log: Logger;
}): LiveHub {
  const { bus, maxQueued, log } = options;
  const clients = new Set<Client>();
  const byKey = new Map<string, Set<Client>>();
  const byPrefix = new Map<string, Set<Client>>();
  const byRoom = new Map<string, Set<Client>>();
  let registry = EMPTY;
  const registers = [options.registry];
  const gauge = new Gauge({ name: 'ws_clients', help: 'Connected live WebSocket clients', registers });
  const cutTotal = new Counter({
    name: 'ws_clients_cut_total',
    help: 'Live WebSocket clients closed with 1013 for falling behind by more than buildings.wsMaxQueued messages',
    registers,
  });

  // --- the registry: reloaded one at a time; a request during a load gets the load after it
  let loading: Promise<void> | undefined;
  let again = false;
  const needsRegistry = () => [...clients].some((c) => c.sensors.size > 0 || c.rooms.size > 0);
  function refresh(): Promise<void> {
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      do {
        again = false;
        try {
          registry = registryOf(await options.loadSensors());
        } catch (err) {
          log.warn({ err }, 'live WebSocket: sensors not reloaded, the last known mapping stays');
        }
        for (const c of clients) if (c.sensors.size || c.rooms.size) index(c);
      } while (again);
    })().finally(() => (loading = undefined));
    return loading;
  }

  // --- the index: series key (or glob prefix) → clients; room → clients for room metrics
  function index(c: Client) {
    const keys = new Set<string>();
    const prefixes = new Set<string>();
    for (const p of c.series) {
      if (isGlob(p)) prefixes.add(p.slice(0, -1));
      else keys.add(p);
    }
    for (const id of c.sensors) {
      const s = registry.seriesOfSensor.get(id);
      if (s !== undefined) keys.add(s);
    }
    for (const room of c.rooms)
      for (const id of registry.sensorsOfRoom.get(room) ?? []) keys.add(registry.seriesOfSensor.get(id)!);
    for (const k of c.keys) if (!keys.has(k)) removeFrom(byKey, k, c);
    for (const k of keys) addTo(byKey, k, c);
    for (const p of c.prefixes) if (!prefixes.has(p)) removeFrom(byPrefix, p, c);
    for (const p of prefixes) addTo(byPrefix, p, c);
    c.keys = keys;
    c.prefixes = prefixes;
  }

  function unindex(c: Client) {
    for (const k of c.keys) removeFrom(byKey, k, c);
    for (const p of c.prefixes) removeFrom(byPrefix, p, c);
    for (const r of c.rooms) removeFrom(byRoom, r, c);
    c.keys = new Set();
    c.prefixes = new Set();
  }

  /** The clients of one batch key: checked once per key of a batch, not per row. */
  function recipients(key: string): Client[] | undefined {
    const exact = byKey.get(key);
    let found: Set<Client> | undefined;
    for (const [prefix, set] of byPrefix) {
      if (!key.startsWith(prefix)) continue;
      found ??= new Set(exact);
      for (const c of set) found.add(c);
    }
    const all = found ?? exact;
    return all?.size ? [...all] : undefined;
  }

  // --- sending, bounded
  /**
   * Sends unless the client is too far behind. `socket.bufferedAmount` is what ws and the TCP
   * socket hold that the kernel has not taken yet; while it is above zero every message sent counts,
   * and it resets once the buffer empties. So `queued` bounds the messages held in this process for
   * the client (the kernel's own buffers are not ours to count), and a fast reader that just got a
   * burst is never mistaken for a slow one.
   */
  function send(c: Client, text: string) {
    if (c.closing) return;
    if (c.socket.bufferedAmount === 0) c.queued = 0;
    else if (c.queued >= maxQueued) return tooSlow(c);
    c.queued++;
    c.socket.send(text);
  }

  function tooSlow(c: Client) {
    c.closing = true;
    unindex(c);
    cutTotal.inc();
    log.warn({ queued: c.queued }, 'live WebSocket client cut: fell behind');
    // the close frame waits behind what is buffered; a client that never reads is terminated by the pings
    c.socket.close(TOO_SLOW, `too slow: over buildings.wsMaxQueued (${maxQueued}) messages waiting`);
  }

  const iso = (ms: number) => new Date(ms).toISOString();

  const stopReadings = bus.subscribe<ReadingBatch>(READINGS_LIVE_TOPIC, (batch) => {
    if (!clients.size) return;
    const to = batch.keys.map(recipients);
    if (!to.some((r) => r !== undefined)) return;
    const sensorIds = batch.keys.map((k) => JSON.stringify(registry.sensorOfSeries.get(k) ?? null));
    const seriesJson = batch.keys.map((k) => JSON.stringify(k));
    for (let i = 0; i < batch.length; i++) {
      const k = batch.keyIndex[i];
      const targets = to[k];
      if (!targets) continue;
      // the text is built once per reading, whatever the number of clients
      const text = `{"type":"reading","sensor_id":${sensorIds[k]},"series":${seriesJson[k]},"timestamp":"${iso(batch.ts[i])}","value":${JSON.stringify(batch.value[i])}}`;
      for (const c of targets) send(c, text);
    }
  });

  const stopMetrics = bus.subscribe<{ type?: unknown; room?: unknown }>(ENERGY_DATA_TOPIC, (message) => {
    if (message?.type !== 'room_metrics' || typeof message.room !== 'string') return;
    const targets = byRoom.get(message.room);
    if (!targets) return;
    const text = JSON.stringify(message);
    for (const c of [...targets]) send(c, text);
  });

  const stopDr = bus.subscribe<{ type?: unknown }>(DR_EVENTS_TOPIC, (message) => {
    if (typeof message?.type !== 'string' || !message.type.startsWith('dr_')) return;
    const text = JSON.stringify(message);
    for (const c of [...clients]) send(c, text);
  });

  const stopFiles = bus.subscribe<{ type?: unknown }>(DATA_INGESTION_TOPIC, (message) => {
    if (message?.type !== 'data_ingestion') return;
    const text = JSON.stringify(message);
    for (const c of [...clients]) send(c, text);
  });

  const stopEvents = bus.subscribe(SENSOR_EVENTS_TOPIC, () => {
    if (needsRegistry()) void refresh();
  });

  // a client that did not answer the last ping is gone; one being closed gets one round to finish
  const pinger = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      if (!c.closing) c.socket.ping();
    }
    if (needsRegistry()) void refresh();
  }, options.pingMs);
  pinger.unref();

  async function handle(c: Client, request: ClientRequest) {
    const { action } = request;
    for (const id of request.sensors) action === 'subscribe' ? c.sensors.add(id) : c.sensors.delete(id);
    for (const p of request.series) action === 'subscribe' ? c.series.add(p) : c.series.delete(p);
    for (const room of request.rooms) {
      if (action === 'subscribe') {
        c.rooms.add(room);
        addTo(byRoom, room, c);
      } else {
        c.rooms.delete(room);
        removeFrom(byRoom, room, c);
      }
    }
    // a sensor or room just created must be found: resolve against the registry as it is now
    if (action === 'subscribe' && (request.sensors.length || request.rooms.length)) await refresh();
    if (c.closing) return;
    index(c);
    send(
      c,
      JSON.stringify({ type: 'subscribed', sensors: [...c.sensors], rooms: [...c.rooms], series: [...c.series] }),
    );
  }

  return {
    accept(socket) {
      const c: Client = {
        socket,
        sensors: new Set(),
        rooms: new Set(),
        series: new Set(),
        keys: new Set(),
        prefixes: new Set(),
        queued: 0,
        alive: true,
        closing: false,
      };
      clients.add(c);
      gauge.inc();
      // one message at a time per client: an unsubscribe never overtakes the subscribe before it
      let chain = Promise.resolve();
      socket.on('message', (data, isBinary) => {
        chain = chain
          .then(() => onMessage(c, isBinary ? null : data.toString()))
          .catch((err: unknown) => {
            log.error({ err }, 'live WebSocket message failed');
          });
      });
      socket.on('pong', () => (c.alive = true));
      socket.on('close', () => {
        c.closing = true;
        unindex(c);
        clients.delete(c);
        gauge.dec();
      });
    },
    close() {
      clearInterval(pinger);
      stopReadings();
      stopMetrics();
      stopDr();
      stopFiles();
      stopEvents();
      for (const c of clients) c.socket.terminate();
    },
  };

  async function onMessage(c: Client, text: string | null) {
    const request =
      text === null ? { error: 'send text frames (JSON), not binary', field: null } : parseClientMessage(text);
    if ('error' in request) return send(c, JSON.stringify({ type: 'error', ...request }));
    await handle(c, request);
  }
}
