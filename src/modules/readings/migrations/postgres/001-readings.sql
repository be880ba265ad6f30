-- The series catalog: one row per series key; stats are updated with every commit.
CREATE TABLE series (
  id          SERIAL PRIMARY KEY,
  key         TEXT NOT NULL UNIQUE,
  unit        TEXT,
  kind        TEXT NOT NULL DEFAULT 'gauge',
  first_ts    BIGINT,
  last_ts     BIGINT,
  last_value  DOUBLE PRECISION,
  count       BIGINT NOT NULL DEFAULT 0,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per (series, ts): a write upserts, so the last write wins. Partitioned by month of ts
-- (UTC epoch ms); partitions are created ahead and on demand by the persistor.
CREATE TABLE readings (
  series_id  INTEGER NOT NULL,
  ts         BIGINT  NOT NULL,
  value      DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (series_id, ts)
) PARTITION BY RANGE (ts);
