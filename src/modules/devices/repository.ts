import type { Store } from '../../core/store/index.js';

/** The devices module's own table (migrations/001-devices.sql); no other module reads it. */
export interface Device {
  deviceId: string;
  family: string;
  source: 'mqtt' | 'poll' | 'emoncms';
  online: boolean | null;
  /** UTC epoch ms; null before the first message. */
  lastMessage: number | null;
  createdAt: number;
}

const COLUMNS = `device_id AS "deviceId", family, source, online, last_message AS "lastMessage", created_at AS "createdAt"`;

export async function listDevices(store: Store): Promise<Device[]> {
  const rows = await store.query<Device>(`SELECT ${COLUMNS} FROM devices ORDER BY device_id`);
  return rows.map((d) => ({ ...d, lastMessage: d.lastMessage === null ? null : Number(d.lastMessage) }));
}

export async function getDevice(store: Store, deviceId: string): Promise<Device | undefined> {
  const [d] = await store.query<Device>(`SELECT ${COLUMNS} FROM devices WHERE device_id = $1`, [deviceId]);
  return d && { ...d, lastMessage: d.lastMessage === null ? null : Number(d.lastMessage) };
}

/** Notes that devices reported at `at` (adding those not seen before); `online` when they said so. */
export async function touchDevices(
  store: Store,
  seen: readonly { deviceId: string; family: string; source: Device['source']; at: number; online?: boolean }[],
): Promise<void> {
  if (!seen.length) return;
  await store.transaction(async (tx) => {
    for (const d of seen)
      await tx.run(
        `INSERT INTO devices (device_id, family, source, online, last_message, created_at) VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (device_id) DO UPDATE SET
           last_message = GREATEST(COALESCE(devices.last_message, 0), excluded.last_message),
           online = COALESCE(excluded.online, devices.online)`,
        [d.deviceId, d.family, d.source, d.online ?? null, d.at],
      );
  });
}
