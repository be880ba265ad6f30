import type { StoreTx } from '../../core/store/index.js';
import type { SensorEvent } from './event.js';

/** SQL for the sensorlog module's own table. */
export async function insertEvents(tx: StoreTx, events: readonly SensorEvent[]) {
  for (let i = 0; i < events.length; i += 500) {
    const params: (string | number | boolean | null)[] = [];
    const rows = events.slice(i, i + 500).map((e) => {
      const values = [
        e.deviceId, e.firmware, e.eventCode, e.reportedAtMs, e.coilReversed, e.powerActiveW, e.powerReactiveVar, e.powerApparentVa,
        e.lineCurrentA, e.lineVoltageV, e.linePhaseRad, e.frequencyHz, e.wifiStrength,
        JSON.stringify(e.currentPeaks), JSON.stringify(e.fftRe), JSON.stringify(e.fftImg),
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
