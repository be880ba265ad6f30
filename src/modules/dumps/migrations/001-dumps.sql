-- The last dump of each day and format: what the daily job has done, and what `GET /api/v1/dumps` lists.
CREATE TABLE dumps (
  date        TEXT NOT NULL,    -- local day, YYYY-MM-DD
  format      TEXT NOT NULL,    -- ndjson, csv or parquet
  time_zone   TEXT NOT NULL,
  blob_url    TEXT NOT NULL,
  rows        BIGINT NOT NULL,
  bytes       BIGINT NOT NULL,
  scheduled   BOOLEAN NOT NULL, -- written by the daily job rather than on request
  written_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (date, format)
);
