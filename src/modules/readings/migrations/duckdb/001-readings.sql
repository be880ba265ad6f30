-- The series catalog: one row per series key. Its stats are flushed from memory now and then;
-- readings_meta.stats_seq says up to which readings.seq they are complete.
CREATE TABLE series (
  id          INTEGER PRIMARY KEY,
  key         VARCHAR NOT NULL UNIQUE,
  unit        VARCHAR,
  kind        VARCHAR NOT NULL DEFAULT 'gauge',
  first_ts    BIGINT,
  last_ts     BIGINT,
  last_value  DOUBLE,
  count       BIGINT NOT NULL DEFAULT 0,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Append-first: no key on the hot path. `seq` orders writes so the last write wins;
-- duplicates of (series_id, ts) are removed by the compactor and resolved at query time until then.
CREATE TABLE readings (
  series_id  INTEGER NOT NULL,
  ts         BIGINT  NOT NULL,  -- UTC epoch milliseconds
  value      DOUBLE  NOT NULL,
  seq        BIGINT  NOT NULL
);

-- One row per UTC day that holds readings: 'sorted' (compacted), 'appended' (in-order appends since,
-- no duplicates possible) or 'dirty' (late, resent or corrected rows: may hold duplicates).
CREATE TABLE reading_partitions (
  day    INTEGER PRIMARY KEY,
  state  VARCHAR NOT NULL
);

CREATE TABLE readings_meta (
  stats_seq  BIGINT NOT NULL  -- series stats include every reading with seq <= this
);
INSERT INTO readings_meta VALUES (0);
