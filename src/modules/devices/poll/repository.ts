import type { Params, Store } from '../../../core/store/index.js';
import type { Device } from '../repository.js';
import type { PolledDeviceConfig, PollKind } from '../settings.js';

/** A polled device's configuration as stored on its registry row (migrations/002-polled-devices.sql). */
export interface PollTarget {
  /** The registry id, `devices/<name>`. */
  deviceId: string;
  /** The device's name in series keys. */
  name: string;
  kind: PollKind;
  url: string;
  intervalS: number;
  username: string;
  /** Never answered by the API nor logged. */
  password: string;
  timezone: string;
  origin: 'settings' | 'api';
}

/** How a polled device's polls go. */
export interface PollHealth {
  lastSuccess: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  consecutiveFailures: number;
  nextPoll: number | null;
}

/** A registry row with, for polled devices, what the poller recorded. */
export type DeviceWithHealth = Device & { poll: (Omit<PollTarget, 'password'> & PollHealth) | null };

/** Polled devices write their series under this prefix. */
export const POLL_PREFIX = 'devices';

/** One write statement in its own transaction. */
const write = (store: Store, sql: string, params: Params) => store.transaction((tx) => tx.run(sql, params));

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

const SELECT = `SELECT device_id, family, source, online, last_message, created_at, poll_kind, poll_url,
  poll_interval_s, poll_username, poll_password, poll_timezone, poll_origin, last_success, last_error,
  last_error_at, consecutive_failures, next_poll FROM devices`;

type Row = Record<string, unknown>;

function target(r: Row): PollTarget {
  const deviceId = String(r.device_id);
  return {
    deviceId,
    name: deviceId.slice(POLL_PREFIX.length + 1),
    kind: r.poll_kind as PollKind,
    url: String(r.poll_url),
    intervalS: Number(r.poll_interval_s),
    username: String(r.poll_username ?? ''),
    password: String(r.poll_password ?? ''),
    timezone: String(r.poll_timezone ?? ''),
    origin: r.poll_origin === 'settings' ? 'settings' : 'api',
  };
}

function withHealth(r: Row): DeviceWithHealth {
  const device: Device = {
    deviceId: String(r.device_id),
    family: String(r.family),
    source: r.source as Device['source'],
    online: r.online === null ? null : Boolean(r.online),
    lastMessage: num(r.last_message),
    createdAt: Number(r.created_at),
  };
  if (r.poll_kind === null || r.poll_kind === undefined) return { ...device, poll: null };
  const { password: _never, ...config } = target(r);
  return {
    ...device,
    poll: {
      ...config,
      lastSuccess: num(r.last_success),
      lastError: (r.last_error as string | null) ?? null,
      lastErrorAt: num(r.last_error_at),
      consecutiveFailures: Number(r.consecutive_failures ?? 0),
      nextPoll: num(r.next_poll),
    },
  };
}

/** Every device of the registry, polled ones with their health. */
export async function listDevicesWithHealth(store: Store): Promise<DeviceWithHealth[]> {
  return (await store.query<Row>(`${SELECT} ORDER BY device_id`)).map(withHealth);
}

export async function getDeviceWithHealth(store: Store, deviceId: string): Promise<DeviceWithHealth | undefined> {
  const [r] = await store.query<Row>(`${SELECT} WHERE device_id = $1`, [deviceId]);
  return r && withHealth(r);
}

/** The devices to poll, with their credentials (for the poller only). */
export async function pollTargets(store: Store): Promise<PollTarget[]> {
  return (await store.query<Row>(`${SELECT} WHERE poll_kind IS NOT NULL ORDER BY device_id`)).map(target);
}

/**
 * Adds or replaces a polled device's configuration; its health starts afresh when how to reach it
 * changed. Answers whether the device was new to polling.
 */
export async function savePollTarget(
  store: Store,
  config: PolledDeviceConfig,
  origin: PollTarget['origin'],
  at: number,
): Promise<boolean> {
  const deviceId = `${POLL_PREFIX}/${config.id}`;
  return store.transaction(async (tx) => {
    const [before] = await tx.query<Row>('SELECT poll_kind FROM devices WHERE device_id = $1', [deviceId]);
    const values = [
      deviceId,
      config.kind,
      config.url,
      config.interval_s,
      config.username,
      config.password,
      config.timezone,
      origin,
      at,
    ];
    if (!before)
      await tx.run(
        `INSERT INTO devices (device_id, family, source, online, last_message, created_at, poll_kind, poll_url,
           poll_interval_s, poll_username, poll_password, poll_timezone, poll_origin, consecutive_failures)
         VALUES ($1, $2, 'poll', NULL, NULL, $9, $2, $3, $4, $5, $6, $7, $8, 0)`,
        values,
      );
    else
      await tx.run(
        `UPDATE devices SET source = 'poll', family = $2, poll_kind = $2, poll_url = $3, poll_interval_s = $4,
           poll_username = $5, poll_password = $6, poll_timezone = $7, poll_origin = $8,
           next_poll = CASE WHEN poll_kind IS NULL THEN $9 ELSE next_poll END
         WHERE device_id = $1`,
        values,
      );
    return !before || before.poll_kind === null;
  });
}

/** Stops polling a device; its registry row and readings stay. */
export async function removePollTarget(store: Store, deviceId: string): Promise<void> {
  await write(
    store,
    `UPDATE devices SET poll_kind = NULL, poll_url = NULL, poll_username = NULL, poll_password = NULL,
       next_poll = NULL WHERE device_id = $1`,
    [deviceId],
  );
}

/**
 * What one poll did: a success clears the failure count, a failure counts one more. A polled
 * device is online while it answers (a failed poll is no message: `last_message` stays).
 */
export async function recordPoll(
  store: Store,
  deviceId: string,
  outcome: { at: number; nextPoll: number; error?: string; family: string },
): Promise<void> {
  if (outcome.error === undefined)
    await write(
      store,
      // the family is what answered: a Shelly's generation as `GET /shelly` says it
      `UPDATE devices SET last_success = $2, consecutive_failures = 0, next_poll = $3, family = $4, online = TRUE
       WHERE device_id = $1`,
      [deviceId, outcome.at, outcome.nextPoll, outcome.family],
    );
  else
    await write(
      store,
      `UPDATE devices SET last_error = $2, last_error_at = $3, next_poll = $4, online = FALSE,
         consecutive_failures = COALESCE(consecutive_failures, 0) + 1 WHERE device_id = $1`,
      [deviceId, outcome.error, outcome.at, outcome.nextPoll],
    );
}

/** Makes the stored settings devices those of `devices.poll`: listed ones saved, unlisted ones no longer polled. */
export async function syncSettingsTargets(store: Store, listed: readonly PolledDeviceConfig[], at: number) {
  for (const config of listed) await savePollTarget(store, config, 'settings', at);
  const ids = new Set(listed.map((c) => `${POLL_PREFIX}/${c.id}`));
  const stored = await store.query<{ device_id: string }>(
    `SELECT device_id FROM devices WHERE poll_kind IS NOT NULL AND poll_origin = 'settings'`,
  );
  for (const { device_id } of stored) if (!ids.has(device_id)) await removePollTarget(store, device_id);
}
