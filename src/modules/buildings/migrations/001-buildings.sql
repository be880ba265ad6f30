-- The buildings module's registry: rooms and the sensors in them. A sensor's readings are a
-- Wattline series (`series`); its last value and time come from the series catalog, not from here.
CREATE TABLE building_rooms (
  name         TEXT PRIMARY KEY,
  floor        INTEGER,
  area_m2      DOUBLE PRECISION,
  description  TEXT,
  created_at   BIGINT NOT NULL,  -- UTC epoch ms
  updated_at   BIGINT NOT NULL
);

CREATE TABLE building_sensors (
  sensor_id    TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  sensor_type  TEXT NOT NULL,
  room         TEXT,             -- a room's name; NULL when unassigned (its room was deleted)
  series       TEXT NOT NULL,
  tags         TEXT NOT NULL,    -- JSON object of string values
  created_at   BIGINT NOT NULL,  -- UTC epoch ms
  updated_at   BIGINT NOT NULL
);
