import type { Store, StoreTx } from '../../core/store/index.js';

/** SQL for the flex module's own tables (flex_events, flex_event_devices, flex_devices, flex_state). */

export type Response = 'WAITING' | 'YES' | 'NO';
export type EventStatus = 'scheduled' | 'active' | 'completed' | 'cancelled';
export type Instruction = 'participation' | 'shifting' | 'off';

export interface FlexEvent {
  eventId: string;
  /** UTC epoch ms. */
  eventTime: number;
  durationMinutes: number;
  loadKwh: number;
  loadPercentage: number;
  response: Response;
  status: EventStatus;
  /** Sensor ids, in the order the invitation named them. */
  devices: string[];
  /** UTC epoch ms. */
  createdAt: number;
  answeredAt: number | null;
  updatedAt: number;
}

export interface DeviceSetting {
  sensorId: string;
  enabled: boolean;
  instruction: Instruction;
  shiftingPercentage: number | null;
  updatedAt: number;
}

type EventRow = Omit<FlexEvent, 'devices'>;

// BIGINT comes back as a bigint from DuckDB and as text from pg: numbers here, once
const EVENT_COLUMNS = `event_id AS "eventId", CAST(event_time AS DOUBLE PRECISION) AS "eventTime",
  duration_minutes AS "durationMinutes", load_kwh AS "loadKwh", load_percentage AS "loadPercentage", response, status,
  CAST(created_at AS DOUBLE PRECISION) AS "createdAt", CAST(answered_at AS DOUBLE PRECISION) AS "answeredAt",
  CAST(updated_at AS DOUBLE PRECISION) AS "updatedAt"`;

const ofRow = (r: EventRow, devices: string[]): FlexEvent => ({
  ...r,
  eventTime: Number(r.eventTime),
  durationMinutes: Number(r.durationMinutes),
  loadKwh: Number(r.loadKwh),
  loadPercentage: Number(r.loadPercentage),
  createdAt: Number(r.createdAt),
  answeredAt: r.answeredAt === null ? null : Number(r.answeredAt),
  updatedAt: Number(r.updatedAt),
  devices,
});

/** The events' rows with their devices (one query for all the devices). */
async function withDevices(store: Store | StoreTx, rows: EventRow[]): Promise<FlexEvent[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.eventId);
  const devices = await store.query<{ eventId: string; sensorId: string }>(
    `SELECT event_id AS "eventId", sensor_id AS "sensorId" FROM flex_event_devices
     WHERE event_id IN (${ids.map((_, i) => `$${i + 1}`).join(', ')}) ORDER BY event_id, position`,
    ids,
  );
  const byEvent = new Map<string, string[]>();
  for (const d of devices) {
    const list = byEvent.get(d.eventId);
    if (list) list.push(d.sensorId);
    else byEvent.set(d.eventId, [d.sensorId]);
  }
  return rows.map((r) => ofRow(r, byEvent.get(r.eventId) ?? []));
}

export async function insertEvent(store: Store, event: FlexEvent): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.run(
      `INSERT INTO flex_events (event_id, event_time, duration_minutes, load_kwh, load_percentage, response, status,
         created_at, answered_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        event.eventId,
        event.eventTime,
        event.durationMinutes,
        event.loadKwh,
        event.loadPercentage,
        event.response,
        event.status,
        event.createdAt,
        event.answeredAt,
        event.updatedAt,
      ],
    );
    const values = event.devices.map((_, i) => `($1, $${2 * i + 2}, $${2 * i + 3})`);
    await tx.run(`INSERT INTO flex_event_devices (event_id, sensor_id, position) VALUES ${values.join(', ')}`, [
      event.eventId,
      ...event.devices.flatMap((id, i) => [id, i]),
    ]);
  });
}

export async function getEvent(store: Store | StoreTx, eventId: string): Promise<FlexEvent | undefined> {
  const rows = await store.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM flex_events WHERE event_id = $1`, [eventId]);
  return (await withDevices(store, rows))[0];
}

/** The event starting at `eventTimeMs` that is not cancelled, else the latest cancelled one. */
export async function getEventAt(store: Store | StoreTx, eventTimeMs: number): Promise<FlexEvent | undefined> {
  const rows = await store.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM flex_events WHERE event_time = $1
     ORDER BY CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END, created_at DESC LIMIT 1`,
    [eventTimeMs],
  );
  return (await withDevices(store, rows))[0];
}

export interface EventFilter {
  /** Events overlapping [fromMs, toMs). */
  fromMs?: number;
  toMs?: number;
  status?: EventStatus;
  response?: Response;
  /** Answered (YES or NO) only. */
  answered?: boolean;
  order: 'event_time' | 'event_time_desc';
  limit?: number;
}

export async function listEvents(store: Store, filter: EventFilter): Promise<FlexEvent[]> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.fromMs !== undefined)
    where.push(`event_time + CAST(duration_minutes AS BIGINT) * 60000 > $${params.push(filter.fromMs)}`);
  if (filter.toMs !== undefined) where.push(`event_time < $${params.push(filter.toMs)}`);
  if (filter.status !== undefined) where.push(`status = $${params.push(filter.status)}`);
  if (filter.response !== undefined) where.push(`response = $${params.push(filter.response)}`);
  if (filter.answered) where.push(`response <> 'WAITING'`);
  const rows = await store.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM flex_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY event_time ${filter.order === 'event_time_desc' ? 'DESC' : 'ASC'}, created_at
     ${filter.limit !== undefined ? `LIMIT ${Math.trunc(filter.limit)}` : ''}`,
    params,
  );
  return withDevices(store, rows);
}

/**
 * Answers an event that is still scheduled or active; undefined when it is neither (completed or
 * cancelled meanwhile): the status guard makes a concurrent transition win or lose, never half.
 */
export async function answerEvent(
  store: Store,
  eventId: string,
  response: 'YES' | 'NO',
  nowMs: number,
): Promise<FlexEvent | undefined> {
  return store.transaction(async (tx) => {
    const changed = await tx.query<{ eventId: string }>(
      `UPDATE flex_events SET response = $2, answered_at = $3, updated_at = $3
       WHERE event_id = $1 AND status IN ('scheduled', 'active') RETURNING event_id AS "eventId"`,
      [eventId, response, nowMs],
    );
    return changed.length ? getEvent(tx, eventId) : undefined;
  });
}

/** Cancels a scheduled or active event; undefined when it was neither. */
export async function cancelEvent(store: Store, eventId: string, nowMs: number): Promise<FlexEvent | undefined> {
  return store.transaction(async (tx) => {
    const changed = await tx.query<{ eventId: string }>(
      `UPDATE flex_events SET status = 'cancelled', updated_at = $2
       WHERE event_id = $1 AND status IN ('scheduled', 'active') RETURNING event_id AS "eventId"`,
      [eventId, nowMs],
    );
    return changed.length ? getEvent(tx, eventId) : undefined;
  });
}

/**
 * Each transition is one guarded UPDATE: only rows still in the status it leaves are moved, so two
 * schedulers (or one restarted) never repeat it, and whatever is due is caught up on the next run.
 */

/** scheduled → active for events whose start has come; a `WAITING` answer becomes `unanswered`. */
export async function startDueEvents(store: Store, nowMs: number, unanswered: 'YES' | 'NO'): Promise<FlexEvent[]> {
  return store.transaction(async (tx) => {
    const ids = await tx.query<{ eventId: string }>(
      `UPDATE flex_events SET status = 'active',
         answered_at = CASE WHEN response = 'WAITING' THEN $2 ELSE answered_at END,
         response = CASE WHEN response = 'WAITING' THEN $3 ELSE response END,
         updated_at = $2
       WHERE status = 'scheduled' AND event_time <= $1 RETURNING event_id AS "eventId"`,
      [nowMs, nowMs, unanswered],
    );
    return eventsById(tx, ids);
  });
}

/** active → completed for events whose end (start + duration) has come. */
export async function completeDueEvents(store: Store, nowMs: number): Promise<FlexEvent[]> {
  return store.transaction(async (tx) => {
    const ids = await tx.query<{ eventId: string }>(
      `UPDATE flex_events SET status = 'completed', updated_at = $2
       WHERE status = 'active' AND event_time + CAST(duration_minutes AS BIGINT) * 60000 <= $1
       RETURNING event_id AS "eventId"`,
      [nowMs, nowMs],
    );
    return eventsById(tx, ids);
  });
}

/** `WAITING` → `YES` for invitations whose event has not started (auto-answer). */
export async function answerWaiting(store: Store, nowMs: number): Promise<FlexEvent[]> {
  return store.transaction(async (tx) => {
    const ids = await tx.query<{ eventId: string }>(
      `UPDATE flex_events SET response = 'YES', answered_at = $1, updated_at = $1
       WHERE response = 'WAITING' AND status = 'scheduled' RETURNING event_id AS "eventId"`,
      [nowMs],
    );
    return eventsById(tx, ids);
  });
}

async function eventsById(tx: StoreTx, ids: { eventId: string }[]): Promise<FlexEvent[]> {
  if (!ids.length) return [];
  const rows = await tx.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM flex_events WHERE event_id IN (${ids.map((_, i) => `$${i + 1}`).join(', ')})
     ORDER BY event_time, created_at`,
    ids.map((r) => r.eventId),
  );
  return withDevices(tx, rows);
}

/** Per-device settings of `sensorIds` (all when undefined); devices without a row are left out. */
export async function deviceSettings(store: Store, sensorIds?: readonly string[]): Promise<DeviceSetting[]> {
  if (sensorIds && !sensorIds.length) return [];
  const rows = await store.query<DeviceSetting>(
    `SELECT sensor_id AS "sensorId", enabled, instruction, shifting_percentage AS "shiftingPercentage",
       CAST(updated_at AS DOUBLE PRECISION) AS "updatedAt" FROM flex_devices
     ${sensorIds ? `WHERE sensor_id IN (${sensorIds.map((_, i) => `$${i + 1}`).join(', ')})` : ''} ORDER BY sensor_id`,
    sensorIds ?? [],
  );
  return rows.map((r) => ({
    ...r,
    enabled: Boolean(r.enabled),
    shiftingPercentage: r.shiftingPercentage === null ? null : Number(r.shiftingPercentage),
    updatedAt: Number(r.updatedAt),
  }));
}

/** Sets part of a device's settings; the rest keep their value, or the default of a device never set (off, participation). */
export async function saveDeviceSetting(
  store: Store,
  sensorId: string,
  change: { enabled?: boolean; instruction?: Instruction; shiftingPercentage?: number | null },
  nowMs: number,
): Promise<DeviceSetting> {
  return store.transaction(async (tx) => {
    const [before] = await tx.query<{ enabled: boolean; instruction: Instruction; shiftingPercentage: number | null }>(
      `SELECT enabled, instruction, shifting_percentage AS "shiftingPercentage" FROM flex_devices WHERE sensor_id = $1`,
      [sensorId],
    );
    const after: DeviceSetting = {
      sensorId,
      enabled: change.enabled ?? Boolean(before?.enabled ?? false),
      instruction: change.instruction ?? before?.instruction ?? 'participation',
      shiftingPercentage:
        change.shiftingPercentage !== undefined
          ? change.shiftingPercentage
          : before?.shiftingPercentage == null
            ? null
            : Number(before.shiftingPercentage),
      updatedAt: nowMs,
    };
    if (after.instruction !== 'shifting') after.shiftingPercentage = null;
    if (before) {
      await tx.run(
        `UPDATE flex_devices SET enabled = $2, instruction = $3, shifting_percentage = $4, updated_at = $5 WHERE sensor_id = $1`,
        [sensorId, after.enabled, after.instruction, after.shiftingPercentage, nowMs],
      );
    } else {
      await tx.run(
        `INSERT INTO flex_devices (sensor_id, enabled, instruction, shifting_percentage, updated_at) VALUES ($1, $2, $3, $4, $5)`,
        [sensorId, after.enabled, after.instruction, after.shiftingPercentage, nowMs],
      );
    }
    return after;
  });
}

export async function getAutoAnswer(store: Store): Promise<boolean> {
  const [row] = await store.query<{ value: string }>(`SELECT value FROM flex_state WHERE name = 'auto_answer'`);
  return row?.value === 'true';
}

export async function setAutoAnswer(store: Store, on: boolean, nowMs: number): Promise<void> {
  await store.transaction((tx) =>
    tx.run(
      `INSERT INTO flex_state (name, value, updated_at) VALUES ('auto_answer', $1, $2)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [String(on), nowMs],
    ),
  );
}
