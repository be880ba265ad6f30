import type { Store, StoreTx } from '../../core/store/index.js';
import type { SensorEvent } from './event.js';

/** SQL for the sensorlog module's own table. */
export async function insertEvents(tx: StoreTx, events: readonly SensorEvent[]) {
  for (let i = 0; i < events.length; i += 500) {
    const params: (string | number | boolean | null)[] = [];
    const rows = events.slice(i, i + 500).map((e) => {
      const values = [
        e.deviceId,
        e.firmware,
        e.eventCode,
        e.reportedAtMs,
        e.coilReversed,
        e.powerActiveW,
        e.powerReactiveVar,
        e.powerApparentVa,
        e.lineCurrentA,
        e.lineVoltageV,
        e.linePhaseRad,
        e.frequencyHz,
        e.wifiStrength,
        JSON.stringify(e.currentPeaks),
        JSON.stringify(e.fftRe),
        JSON.stringify(e.fftImg),
      ];
      const first = params.length + 1;
      params.push(...values);
      return `(${values.map((_, k) => `$${first + k}`).join(', ')})`;
    });
    await tx.run(
      `INSERT INTO sensor_events (device_id, firmware, event_code, reported_at, coil_reversed, power_active_w, power_reactive_var, power_apparent_va,
         line_current_a, line_voltage_v, line_phase_rad, frequency_hz, wifi_strength, current_peaks, fft_re, fft_img)
       VALUES ${rows.join(', ')}`,
      params,
    );
  }
}

/** Per cluster label: count and mean powers, current and voltage (energy-sensors' summary). */
export function clusterSummary(store: Store) {
  return store.query<{
    label: number;
    count: number;
    avg_power_active_w: number;
    avg_power_reactive_var: number;
    avg_power_apparent_va: number;
    avg_line_current_a: number;
    avg_line_voltage_v: number;
  }>(
    `SELECT cluster AS label, count(*) AS count, avg(power_active_w) AS avg_power_active_w, avg(power_reactive_var) AS avg_power_reactive_var,
            avg(power_apparent_va) AS avg_power_apparent_va, avg(line_current_a) AS avg_line_current_a, avg(line_voltage_v) AS avg_line_voltage_v
     FROM sensor_events WHERE cluster IS NOT NULL GROUP BY cluster ORDER BY cluster`,
  );
}

export async function listEvents(store: Store, filter: { cluster?: number; fromMs?: number; toMs?: number }) {
  const where: string[] = [];
  const params: number[] = [];
  if (filter.cluster !== undefined) where.push(`cluster = $${params.push(filter.cluster)}`);
  if (filter.fromMs !== undefined) where.push(`reported_at >= $${params.push(filter.fromMs)}`);
  if (filter.toMs !== undefined) where.push(`reported_at <= $${params.push(filter.toMs)}`);
  const rows = await store.query<{
    id: number;
    device_id: number;
    reported_at: number;
    power_active_w: number;
    cluster: number | null;
  }>(
    `SELECT id, device_id, reported_at, power_active_w, power_reactive_var, power_apparent_va, line_current_a, line_voltage_v, cluster
     FROM sensor_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY reported_at, id LIMIT 1000`,
    params,
  );
  return rows.map(({ reported_at, ...r }) => ({ ...r, time: new Date(reported_at).toISOString() }));
}
