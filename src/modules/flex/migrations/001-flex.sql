-- The flex (demand response) module's own tables; no other module reads them. Devices are the
-- buildings module's sensors, named by sensor id (never joined to its tables).

-- Each invitation is an event: its answer and where it is in its life.
CREATE TABLE flex_events (
  event_id          TEXT PRIMARY KEY,
  event_time        BIGINT NOT NULL,             -- UTC epoch ms of the start
  duration_minutes  INTEGER NOT NULL,
  load_kwh          DOUBLE PRECISION NOT NULL,
  load_percentage   DOUBLE PRECISION NOT NULL,
  response          TEXT NOT NULL,               -- WAITING | YES | NO
  status            TEXT NOT NULL,               -- scheduled | active | completed | cancelled
  created_at        BIGINT NOT NULL,             -- UTC epoch ms
  answered_at       BIGINT,                      -- NULL while WAITING
  updated_at        BIGINT NOT NULL
);

-- The devices an invitation names, in the order it named them.
CREATE TABLE flex_event_devices (
  event_id   TEXT NOT NULL,
  sensor_id  TEXT NOT NULL,
  position   INTEGER NOT NULL,
  PRIMARY KEY (event_id, sensor_id)
);

-- Per device: demand response on or off, and how it takes part. A device without a row is off.
CREATE TABLE flex_devices (
  sensor_id            TEXT PRIMARY KEY,
  enabled              BOOLEAN NOT NULL,
  instruction          TEXT NOT NULL,             -- participation | shifting | off
  shifting_percentage  DOUBLE PRECISION,          -- 0–20, for shifting only
  updated_at           BIGINT NOT NULL
);

-- Switches kept in the store, not in a process's memory: `auto_answer` ('true' | 'false').
CREATE TABLE flex_state (
  name        TEXT PRIMARY KEY,
  value       TEXT NOT NULL,
  updated_at  BIGINT NOT NULL
);
