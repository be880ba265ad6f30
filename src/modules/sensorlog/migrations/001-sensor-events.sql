-- One row per stored sensor log event (energy-sensors); cluster is set by the clustering job.
CREATE SEQUENCE sensor_event_id;
CREATE TABLE sensor_events (
  id                 BIGINT PRIMARY KEY DEFAULT nextval('sensor_event_id'),
  device_id          BIGINT NOT NULL,
  firmware           BIGINT,
  event_code         BIGINT,
  reported_at        BIGINT NOT NULL,  -- UTC epoch ms
  coil_reversed      BOOLEAN,
  power_active_w     DOUBLE PRECISION,
  power_reactive_var DOUBLE PRECISION,
  power_apparent_va  DOUBLE PRECISION,
  line_current_a     DOUBLE PRECISION,
  line_voltage_v     DOUBLE PRECISION,
  line_phase_rad     DOUBLE PRECISION,
  frequency_hz       DOUBLE PRECISION,
  wifi_strength      DOUBLE PRECISION,
  current_peaks      TEXT,  -- JSON array
  fft_re             TEXT,  -- JSON array
  fft_img            TEXT,  -- JSON array
  cluster            INTEGER
);
