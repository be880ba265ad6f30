-- Hourly rollups, as the embedded store keeps them (count, sum, min, max, first and last per series
-- and UTC hour). Every commit marks the hours it wrote in readings_hours_dirty; the persist role's
-- background job recomputes those hours from the readings and clears their marks in one transaction,
-- and queries read the rollups only for hours that are not marked (engines/postgres/rollups.ts).
CREATE TABLE readings_hourly (
  series_id    INTEGER NOT NULL,
  hour         BIGINT NOT NULL,  -- UTC epoch ms of the hour's start
  n            BIGINT NOT NULL,
  sum          DOUBLE PRECISION NOT NULL,
  min          DOUBLE PRECISION NOT NULL,
  max          DOUBLE PRECISION NOT NULL,
  first_ts     BIGINT NOT NULL,
  first_value  DOUBLE PRECISION NOT NULL,
  last_ts      BIGINT NOT NULL,
  last_value   DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (series_id, hour)
);

CREATE TABLE readings_hours_dirty (
  series_id  INTEGER NOT NULL,
  hour       BIGINT NOT NULL,
  PRIMARY KEY (series_id, hour)
);

-- every hour already stored is rolled up by the first run of the job
INSERT INTO readings_hours_dirty (series_id, hour)
SELECT DISTINCT series_id, ts - (((ts % 3600000) + 3600000) % 3600000) FROM readings;
