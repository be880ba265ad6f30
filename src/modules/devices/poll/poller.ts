import type { Logger } from '../../../core/log.js';
import type { Store } from '../../../core/store/index.js';
import type { DeviceReading } from '../format.js';
import { status10Readings } from '../formats/tasmota.js';
import type { DeviceSink, Origin } from '../sink.js';
import type { PollKind, Settings } from '../settings.js';
import { getDeviceJson, type DeviceHttp } from './http.js';
import { readHttpJson } from './http-json.js';
import { POLL_PREFIX, type PollTarget, pollTargets, recordPoll } from './repository.js';
import { readShellyGen1Status } from './shelly-gen1.js';
import { readShellyGen2Status } from './shelly-gen2.js';

export interface PollerDeps {
  store: Store;
  sink: DeviceSink;
  log: Logger;
  now: () => number;
  settings: Settings['devices'];
  /** The core time zone: device times without an offset, when the device names none. */
  zone: string;
}

/** A URL below a device's base URL (`http://10.0.0.5` and `status` give `http://10.0.0.5/status`). */
const below = (base: string, path: string) => new URL(path, base.endsWith('/') ? base : `${base}/`);

/** Which Shelly generation answers at `base`: `GET /shelly` (never behind a password) has `gen` from Gen2 on. */
async function shellyGeneration(base: string, http: DeviceHttp): Promise<PollKind> {
  const info = await getDeviceJson(below(base, 'shelly'), { ...http, password: '' });
  const gen = (info as { gen?: unknown } | null)?.gen;
  return typeof gen === 'number' && gen >= 2 ? 'shelly-gen2' : 'shelly-gen1';
}

/** Polls one device once: its readings, read by its family's mapper (the MQTT format's, for the three vendors). */
async function pollOnce(
  t: PollTarget,
  kind: PollKind,
  http: DeviceHttp,
  zone: string,
  now: number,
): Promise<DeviceReading[]> {
  switch (kind) {
    case 'shelly-gen1':
      return readShellyGen1Status(t.name, await getDeviceJson(below(t.url, 'status'), http), now);
    case 'shelly-gen2':
      return readShellyGen2Status(t.name, await getDeviceJson(below(t.url, 'rpc/Shelly.GetStatus'), http), now);
    case 'tasmota': {
      const url = below(t.url, 'cm');
      // Tasmota's web password goes in the query (it takes no HTTP authentication)
      if (t.password)
        url.search = new URLSearchParams({ user: t.username || 'admin', password: t.password }).toString();
      url.search += `${url.search ? '&' : ''}cmnd=Status%2010`;
      return status10Readings(t.name, await getDeviceJson(url, { ...http, password: '' }), zone, now);
    }
    case 'http-json':
      return readHttpJson(t.name, await getDeviceJson(new URL(t.url), http), zone, now).readings;
  }
}

/** At most `limit` polls at once; the others wait for a free slot (a hung device holds one only until its timeout). */
function slots(limit: number) {
  let busy = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (busy >= limit) await new Promise<void>((r) => waiting.push(r));
    else busy++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else busy--;
    }
  };
}

interface Polled {
  target: PollTarget;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  failures: number;
  /** The Shelly generation `GET /shelly` said (asked again after a failure: the device may have been replaced). */
  generation?: PollKind;
}

/**
 * Polls every device of the registry that has a poll configuration (role `jobs`): each on its own
 * timer, every `interval_s` while it answers; after a failure, after its interval doubled for each
 * failure in a row, at most `pollMaxBackoffS`. A device that does not answer holds one of
 * `pollConcurrency` slots only until `pollTimeoutMs`, so it never holds the others back. Readings go
 * through the sink (family = kind, source `poll`, prefix `devices`); each poll's outcome is
 * recorded on the device's row for `GET /api/v1/devices`. The list is reread every
 * `pollRefreshMs` (devices added through an API process elsewhere) and on `refresh()`.
 */
export function startPoller(deps: PollerDeps) {
  const { store, sink, log, now, settings } = deps;
  const abort = new AbortController();
  const limit = slots(settings.pollConcurrency);
  const devices = new Map<string, Polled>();

  const delayAfter = (d: Polled) =>
    d.failures === 0
      ? d.target.intervalS * 1000
      : Math.min(d.target.intervalS * 2 ** d.failures, Math.max(settings.pollMaxBackoffS, d.target.intervalS)) * 1000;

  const schedule = (d: Polled, delayMs: number) => {
    if (abort.signal.aborted) return;
    clearTimeout(d.timer);
    d.timer = setTimeout(() => {
      d.running = limit(() => poll(d)).finally(() => {
        d.running = undefined;
      });
    }, delayMs);
    d.timer.unref();
  };

  async function poll(d: Polled) {
    const t = d.target;
    const http: DeviceHttp = {
      username: t.username,
      password: t.password,
      timeoutMs: settings.pollTimeoutMs,
      signal: abort.signal,
    };
    const startedMs = now();
    let kind: PollKind = t.kind;
    let error: string | undefined;
    try {
      if (kind === 'shelly-gen1' || kind === 'shelly-gen2') {
        d.generation ??= await shellyGeneration(t.url, http);
        if (d.generation !== kind)
          log.debug({ device: t.deviceId, configured: kind, found: d.generation }, 'Shelly generation');
        kind = d.generation;
      }
      const readings = await pollOnce(t, kind, http, t.timezone || deps.zone, startedMs);
      const origin: Origin = { family: kind, source: 'poll', prefix: POLL_PREFIX };
      await sink.write(readings, origin);
    } catch (err) {
      error = (err as Error).message;
    }
    if (abort.signal.aborted) return;
    if (error === undefined) {
      if (d.failures > 0) log.info({ device: t.deviceId, failures: d.failures }, 'polled device answers again');
      d.failures = 0;
    } else {
      d.failures++;
      d.generation = undefined;
      // an outage is logged once, when it starts; each retry after at debug level
      if (d.failures === 1) log.warn({ device: t.deviceId, error }, 'polled device failed; backing off');
      else log.debug({ device: t.deviceId, error, failures: d.failures }, 'polled device failed again');
    }
    if (devices.get(t.deviceId) !== d) return; // removed while it was polled
    const delayMs = delayAfter(d);
    const at = now();
    await recordPoll(store, t.deviceId, { at, nextPoll: at + delayMs, error, family: kind }).catch((err) =>
      log.debug({ err, device: t.deviceId }, 'poll health not recorded'),
    );
    schedule(d, delayMs);
  }

  /** Takes the stored list: new devices are polled at once, removed ones stop, changed ones use their new settings. */
  async function refresh() {
    const targets = await pollTargets(store);
    const seen = new Set<string>();
    for (const target of targets) {
      seen.add(target.deviceId);
      const d = devices.get(target.deviceId);
      if (!d) {
        const added: Polled = { target, failures: 0 };
        devices.set(target.deviceId, added);
        schedule(added, 0);
      } else if (JSON.stringify(d.target) !== JSON.stringify(target)) {
        d.target = target;
        d.generation = undefined;
        if (!d.running) schedule(d, 0);
      }
    }
    for (const [id, d] of devices)
      if (!seen.has(id)) {
        clearTimeout(d.timer);
        devices.delete(id);
      }
  }

  const refreshing = () =>
    refresh().catch((err) => log.warn({ err }, 'polled devices not reread; trying again at the next refresh'));
  const first = refreshing();
  const timer = setInterval(refreshing, settings.pollRefreshMs);
  timer.unref();

  return {
    refresh: refreshing,
    async stop() {
      clearInterval(timer);
      abort.abort();
      await first;
      for (const d of devices.values()) clearTimeout(d.timer);
      await Promise.all([...devices.values()].map((d) => d.running));
    },
  };
}

export type Poller = ReturnType<typeof startPoller>;
